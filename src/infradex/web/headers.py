"""The security headers every HTML response carries: the server's and ``infradex docs serve``'s.

One definition, so the static preview is held to the same policy as the live pages: no script
at all, styles and images only from the site itself, no framing, no ``<base>``, forms only to
the site. Catalog text is escaped in every page; the policy is what still holds if an escape
is ever missed.
"""

from __future__ import annotations

__all__ = ["SECURITY_HEADERS"]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
