"""The pages around subscribing: what a sign-up did, the confirm and unsubscribe pages
(whose GET only shows a button: mail scanners fetch links, and must not act by doing so),
and their outcomes. Pure; the same stylesheet and no script, like the page."""

from __future__ import annotations

from markupsafe import Markup

from infradex.statuspage.html import document

__all__ = ["action_page", "outcome_page", "signed_up_page"]

_BACK = Markup('<p><a href="/status">Back to the status page</a></p>')


def _page(name: str, heading: str, body: Markup) -> str:
    return document(
        f"{heading} · {name}",
        Markup("<header><h1>{}</h1></header><h2>{}</h2>{}{}").format(name, heading, body, _BACK),
    )


def signed_up_page(name: str, kind: str, secret: str | None) -> str:
    """After a sign-up: by email, look for the confirmation (the same words whether the
    address was new, pending or subscribed already); by webhook, its secret, shown once."""
    if kind == "webhook" and secret is not None:
        body = Markup(
            '<div class="notice" role="status"><p>Your webhook is subscribed. Each update is '
            "POSTed to it as JSON, signed: <code>X-Infradex-Signature: sha256=HEX</code> is "
            "the HMAC-SHA256 of <code>X-Infradex-Timestamp</code>, a dot and the body, under "
            "this secret. It is shown this once: keep it now.</p>"
            '<p class="secret" id="webhook-secret">{}</p>'
            "<p>Every delivery carries a link to unsubscribe (<code>links.unsubscribe</code>)."
            "</p></div>"
        ).format(secret)
        return _page(name, "Webhook subscribed", body)
    body = Markup(
        '<div class="notice" role="status"><p>Check your inbox: a mail with a link to confirm '
        "the subscription is on its way. Nothing else is sent to the address until the link "
        "is used; it works for 48 hours.</p></div>"
    )
    return _page(name, "Almost there", body)


def action_page(name: str, heading: str, text: str, action: str, token: str, button: str) -> str:
    """A link's page: what the button will do, and the button (a POST with the token)."""
    body = Markup(
        '<div class="notice"><p>{}</p><form class="act" method="post" action="{}">'
        '<input type="hidden" name="token" value="{}"><button type="submit">{}</button>'
        "</form></div>"
    ).format(text, action, token, button)
    return _page(name, heading, body)


def outcome_page(name: str, heading: str, text: str, *, error: bool = False) -> str:
    role = "alert" if error else "status"
    body = Markup('<div class="notice{}" role="{}"><p>{}</p></div>').format(
        " error" if error else "", role, text
    )
    return _page(name, heading, body)
