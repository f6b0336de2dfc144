"""Search from the header box and the people directory, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from .support import register, screenshot

pytestmark = pytest.mark.browser

TEAPOT = "Looking for the golden teapot #brewing"


def test_search_from_the_header_and_browse_people(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    rootpath = request.config.rootpath
    context = browser.new_context(base_url=base)
    try:
        ana = register(context, base, "ana")
        compose = ana.locator("form.compose")
        compose.locator("textarea[name=status]").fill(TEAPOT)
        compose.get_by_role("button", name="Post").click()
        ana.wait_for_url(base + "/")
        register(context.browser.new_context(base_url=base), base, "bob").context.close()

        # The header's search box is a plain GET form: type, press Enter.
        box = ana.locator("header form[action='/search'] input[name=q]")
        box.fill("GOLDEN teapot")
        box.press("Enter")
        ana.wait_for_url(re.compile(r"/search\?q=GOLDEN\+teapot$"))
        expect(ana.locator("h1")).to_have_text("Search")
        expect(ana.locator("article.post p.post-text")).to_have_text([TEAPOT])
        expect(ana.locator("form.search-form input[name=q]")).to_have_value("GOLDEN teapot")
        screenshot(ana, rootpath, "search.png")

        ana.locator("header a[href='/users']").click()
        ana.wait_for_url(base + "/users")
        rows = ana.locator("ul.directory > li")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("@bob")
        rows.first.get_by_role("button", name="Follow").click()
        ana.wait_for_url(base + "/users")
        expect(rows.first.get_by_role("button", name="Unfollow")).to_be_visible()
        screenshot(ana, rootpath, "users.png")

    finally:
        context.close()
