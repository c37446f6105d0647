"""Catalog text made inert for every output: the characters no format may carry, one-line text
for inline contexts, terminal-safe text, and the only URLs an output may turn into a link.

Catalog text arrives by pull request, so every renderer treats it as hostile. Each format still
escapes its own markup (HTML, Markdown, RST, DOT, Mermaid); this module holds what they share:
which characters go before any escaping, and which URL schemes are ever linked.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

__all__ = [
    "LINK_SCHEMES",
    "link_target",
    "one_line",
    "terminal_text",
    "valid_chars",
]

#: the only schemes an output makes a link of; anything else is shown as plain text
LINK_SCHEMES = frozenset({"http", "https", "mailto", "irc", "ircs"})

# Characters XML 1.0 does not allow (C0 controls but tab, newline and CR; lone surrogates;
# U+FFFE and U+FFFF). No output format can carry them usefully, and a lone surrogate cannot
# even be encoded as UTF-8, so writing the page would fail.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_REPLACEMENT = "\ufffd"
# Everything that ends a line somewhere (Unicode line breaks, C1 NEL) and every other control
# character: in an inline context each becomes a space, so no text can start a new line.
_BREAKS_AND_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Terminal escape sequences: CSI (ESC [ ... final byte), OSC/DCS/APC/PM/SOS strings up to BEL
# or ST, and any other two-byte ESC sequence. Their 8-bit C1 forms go with the C1 controls.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -~]?"
)
# Explicit bidi embeddings, overrides and isolates: they reorder what the terminal shows
# ("Trojan source"), so a title could display as something it is not.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# the characters an URL keeps as they are (RFC 3986 reserved and unreserved, and "%" of an
# existing escape); everything else (space, quotes, <, >, `, \, |, {, }, ^, controls,
# non-ASCII) is percent-encoded, so no output's link syntax can be closed from inside a URL
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def valid_chars(text: str) -> str:
    """``text`` with every character XML 1.0 forbids (and lone surrogates) replaced by U+FFFD."""
    return _NOT_XML.sub(_REPLACEMENT, text)


def one_line(text: str) -> str:
    """``text`` for an inline context: valid characters only, and every line break or other
    control character a space, so the text cannot start a line of its own in any format."""
    return _BREAKS_AND_CONTROLS.sub(" ", valid_chars(text))


def terminal_text(text: str) -> str:
    """``text`` safe to write to a terminal: escape sequences removed, C0 controls but newline
    and tab removed, C1 controls, DEL and bidi overrides removed, lone surrogates replaced."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(
        _REPLACEMENT if 0xD800 <= ord(char) <= 0xDFFF else char
        for char in text
        if char in "\n\t" or not (unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS)
    )


def link_target(url: str) -> str | None:
    """The address to link to for ``url``, or None when it must be shown as text.

    Linked: absolute URLs with a scheme in :data:`LINK_SCHEMES`, references within the same
    page (``?page=2``, ``#services``) and paths on the same site (``../login?next=/x``,
    ``/incidents``, but never ``//host``), which infradex writes itself. Characters outside
    RFC 3986 are percent-encoded first, so the scheme is judged on what a browser would see
    (it drops tabs and newlines: ``java\\tscript:`` is ``javascript:`` to it) and the result
    cannot break out of any format's link syntax.
    """
    encoded = quote(valid_chars(url.strip()), safe=_URL_SAFE)
    if encoded.startswith(("?", "#", "./", "../", "/")) and not encoded.startswith("//"):
        return encoded
    match = _SCHEME.match(encoded)
    if match is None or match.group(1).lower() not in LINK_SCHEMES:
        return None
    return encoded
