"""/stats in a real browser after some activity: the totals and the charts show, without
JavaScript too, and a screenshot is kept for people to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .support import register, screenshot

pytestmark = pytest.mark.browser


def test_stats_page_after_some_activity(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    contexts = [browser.new_context(base_url=base) for _ in range(3)]
    # Tall enough that element screenshots need no scrolling under the sticky header.
    no_js = browser.new_context(
        base_url=base, java_script_enabled=False, viewport={"width": 900, "height": 2000}
    )
    try:
        pages = [
            register(c, base, name) for c, name in zip(contexts, ("ann", "ben", "cy"), strict=True)
        ]
        for page, count in zip(pages, (3, 2, 1), strict=True):
            for i in range(count):
                page.locator("form.compose textarea[name=status]").fill(f"stats test {i}")
                page.locator("form.compose").get_by_role("button", name="Post").click()
                expect(page.locator("article.post p.post-text").first).to_have_text(
                    f"stats test {i}"
                )
        pages[1].goto(base + "/@ann")
        pages[1].locator("form[action='/@ann/follow']").get_by_role("button", name="Follow").click()
        expect(pages[1].get_by_role("button", name="Unfollow")).to_be_visible()

        visitor = no_js.new_page()
        visitor.goto(base + "/public")
        visitor.get_by_role("link", name="Statistics").click()
        visitor.wait_for_url(base + "/stats")
        expect(visitor.locator("dd[data-total=people]")).to_have_text("3")
        expect(visitor.locator("dd[data-total=posts]")).to_have_text("6")
        expect(visitor.locator("dd[data-total=follows]")).to_have_text("1")
        expect(visitor.get_by_role("img", name="Posts per day")).to_have_count(2)
        today = visitor.locator("#chart-posts-7 rect.today")
        expect(today).to_have_attribute("data-value", "6")
        box = today.bounding_box()
        assert box is not None and box["height"] > 50 and box["width"] > 20
        screenshot(visitor, request.config.rootpath, "stats.png")
        out = request.config.rootpath / "test-output" / "browser" / "stats-30-days.png"
        visitor.locator("#last-30").screenshot(path=str(out))
    finally:
        for context in (*contexts, no_js):
            context.close()
