"""A page body cleaned once (``checked``) is not scanned again, every other part still is, and no
text in the page's shell can take the body's place."""

from __future__ import annotations

from markupsafe import Markup

from infradex.docs.blocks import Page
from infradex.docs.html import checked, render


def test_a_checked_body_is_served_as_it_was_cleaned() -> None:
    body = checked(Markup("<p>bad \x01 char</p>"))
    assert body.markup == Markup("<p>bad \ufffd char</p>")
    text = render(Page("board", "Board \x02"), live=True, body=body)
    assert "<p>bad \ufffd char</p>" in text
    assert "<title>Board \ufffd · infradex</title>" in text  # the shell is cleaned per request


def test_an_unchecked_body_is_cleaned_on_every_render() -> None:
    text = render(Page("x", "X"), live=True, body=Markup("<p>\x0b</p>"))
    assert "<p>\ufffd</p>" in text and "\x0b" not in text


def test_no_text_in_the_shell_takes_the_body_place() -> None:
    page = Page("search", "<infradex-body/>")
    text = render(page, live=True, query="<infradex-body/>", body=Markup("<p>BODY</p>"))
    assert text.count("<p>BODY</p>") == 1
    assert text.index("<p>BODY</p>") > text.index('<main id="main">')
    assert "&lt;infradex-body/&gt;" in text
