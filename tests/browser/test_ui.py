"""Click through the web UI as a person would, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import PASSWORD, shot

pytestmark = pytest.mark.browser


def test_from_a_provider_to_an_impacted_service_to_its_owner(server: str, page: Page) -> None:
    page.goto(server + "/")
    expect(page.locator("h1")).to_have_text("Infrastructure overview")
    shot(page, "01-overview")
    page.locator("#providers").locator("xpath=following::table[1]").get_by_role(
        "link", name="Fastly"
    ).click()
    expect(page).to_have_url(server + "/providers/fastly")
    impact = page.locator("#impact").locator("xpath=following::table[1]")
    expect(impact).to_contain_text("docs.python.org")
    shot(page, "02-provider-fastly")
    impact.get_by_role("link", name="docs.python.org").first.click()
    expect(page).to_have_url(server + "/services/docs")
    expect(page.locator("#who").locator("xpath=following::table[1]")).to_contain_text(
        "maintainer of docs.python.org"
    )
    shot(page, "03-service-docs")
    page.locator("#who").locator("xpath=following::table[1]").get_by_role(
        "link", name="Julien Palard"
    ).click()
    expect(page).to_have_url(server + "/people/julien-palard")
    expect(page.locator("main")).to_contain_text("Owns: docs.python.org")
    shot(page, "04-person")


def test_search_from_the_header(server: str, page: Page) -> None:
    page.goto(server + "/services/docs")
    page.get_by_role("searchbox").fill("palard")
    page.get_by_role("searchbox").press("Enter")
    expect(page).to_have_url(server + "/search?q=palard")
    expect(page.locator("main")).to_contain_text("Julien Palard")
    shot(page, "05-search")
    page.get_by_role("link", name="Julien Palard").click()
    expect(page).to_have_url(server + "/people/julien-palard")


def test_sign_in_and_out(server: str, page: Page) -> None:
    page.goto(server + "/services/docs")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("ee")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.get_by_label("Username").fill("ee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("form.account")).to_contain_text("ee")
    shot(page, "06-signed-in")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_pages_fit_a_phone(server: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    for path in ("/", "/services/docs", "/providers/fastly", "/ownership"):
        phone.goto(server + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    shot(phone, "07-phone-service")
    context.close()


def test_every_page_has_one_title_and_a_language(server: str, page: Page) -> None:
    for path in ("/", "/services/docs", "/providers/fastly", "/search?q=x", "/problems", "/login"):
        page.goto(server + path)
        assert page.locator("h1").count() == 1, path
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("main").count() == 1
