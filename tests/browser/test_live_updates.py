"""Live updates in two browsers: the home timeline's "new posts" banner, likes and replies,
and the notifications badge that counts them while the page stays open.

This module gets its own ``twoorl serve`` (the server fixture is per module), so Alice and
Bob start from nothing here.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .support import TIMEOUT_MS, TRACK_STREAMS, register, screenshot, wait_for_streams

pytestmark = pytest.mark.browser

OLDER = "An older post, before Bob opens his home page"
NEWER = "Posted while Bob is watching #live"
REPLY = "Saw it live, without reloading!"
LIVE_MS = TIMEOUT_MS  # how long a live update (or a background job's effect) may take


def _mark_page(page: Page) -> None:
    """Leave a mark in the page's JavaScript state; a reload or navigation wipes it."""
    page.evaluate("window.__marker = 1")


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def _badge(page: Page):
    return page.locator("header a[data-notifications-link] span[data-unread]")


def _post(page: Page, text: str):
    return page.locator("article.post", has=page.locator("p.post-text", has_text=text))


def test_live_banner_likes_replies_and_notifications(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    rootpath = request.config.rootpath
    alice_context = browser.new_context(base_url=base)
    bob_context = browser.new_context(base_url=base)
    for context in (alice_context, bob_context):
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(TRACK_STREAMS)
    try:
        alice = register(alice_context, base, "alice")
        bob = register(bob_context, base, "bob")

        # Alice has nothing to read yet: the badge is hidden.
        badge = _badge(alice)
        expect(badge).to_be_hidden()
        wait_for_streams(alice, "/stream/notifications", "/stream/home")
        _mark_page(alice)

        # Bob follows Alice; her open page counts the new follower without a reload.
        bob.goto("/@alice")
        bob.locator("form[action='/@alice/follow']").get_by_role("button", name="Follow").click()
        bob.wait_for_url(base + "/@alice")
        expect(bob.get_by_role("button", name="Unfollow")).to_be_visible()
        expect(badge).to_have_text("1", timeout=LIVE_MS)
        expect(badge).to_be_visible()
        _assert_not_reloaded(alice)

        # Alice reads it; the notifications page marks it read.
        alice.locator("header a[data-notifications-link]").click()
        alice.wait_for_url(base + "/notifications")
        expect(alice.locator("li.notification")).to_have_count(1)
        expect(alice.locator("li.notification.follow")).to_contain_text("bob followed you")
        expect(badge).to_be_hidden()

        # Alice posts something before Bob opens his home page.
        alice.goto("/")
        alice.locator("form.compose textarea[name=status]").fill(OLDER)
        alice.locator("form.compose").get_by_role("button", name="Post").click()
        alice.wait_for_url(base + "/")
        expect(alice.locator("article.post p.post-text").first).to_have_text(OLDER)

        # Bob keeps his home page open, listening.
        bob.goto("/")
        expect(bob.locator("h1")).to_have_text("Home")
        timeline = bob.locator("section.timeline[data-stream='/stream/home']")
        expect(timeline.locator("article.post p.post-text")).to_have_text([OLDER])
        banner = bob.locator("button[data-new-posts]")
        expect(banner).to_be_hidden()
        wait_for_streams(bob, "/stream/home", "/stream/notifications")
        _mark_page(bob)

        # Alice posts again; her page reloads after posting, so she starts listening afresh.
        alice.locator("form.compose textarea[name=status]").fill(NEWER)
        alice.locator("form.compose").get_by_role("button", name="Post").click()
        alice.wait_for_url(base + "/")
        expect(alice.locator("article.post p.post-text").first).to_have_text(NEWER)
        expect(badge).to_be_hidden()
        wait_for_streams(alice, "/stream/notifications", "/stream/home")
        _mark_page(alice)

        # Without reloading, Bob's page offers the new post...
        expect(banner).to_be_visible(timeout=LIVE_MS)
        expect(banner).to_have_text("1 new post — show it")
        expect(timeline.locator("article.post p.post-text")).to_have_text([OLDER])
        screenshot(bob, rootpath, "live-banner.png")
        # ...and shows it on top when he asks, still without a reload.
        banner.click()
        expect(banner).to_be_hidden()
        expect(timeline.locator("article.post p.post-text")).to_have_text([NEWER, OLDER])
        expect(timeline.locator("article.post").first.locator("a.author")).to_have_attribute(
            "href", "/@alice"
        )
        _assert_not_reloaded(bob)

        # Bob likes the new post from his timeline.
        post = _post(bob, NEWER)
        like = post.locator("button.like")
        expect(like).to_contain_text("Like")
        expect(like.locator("span.count")).to_have_text("0")
        like.click()
        bob.wait_for_url(re.compile(re.escape(base) + r"/#post-\d+$"))
        like = _post(bob, NEWER).locator("button.like")
        expect(like).to_contain_text("♥ Unlike")
        expect(like).to_have_attribute("aria-pressed", "true")
        # Read-your-writes: the liker sees their like counted at once, before the job runs.
        expect(like.locator("span.count")).to_have_text("1", timeout=1000)

        # Alice's badge counts the like while her page stays open.
        expect(badge).to_have_text("1", timeout=LIVE_MS)
        expect(badge).to_be_visible()
        _assert_not_reloaded(alice)

        # Bob replies from the post's permalink; the reply box is addressed to Alice.
        # (Whether it gets the focus is test_reply_link_focuses_the_reply_box's business.)
        _post(bob, NEWER).get_by_role("link", name="Reply").click()
        bob.wait_for_url(re.compile(re.escape(base) + r"/@alice/\d+#reply$"))
        permalink = bob.url.split("#")[0]
        expect(bob.locator("article.post.focused p.post-text")).to_have_text(NEWER)
        reply_form = bob.locator("form#reply")
        box = reply_form.locator("textarea[name=status]")
        expect(box).to_have_value("@alice ")
        box.click()
        box.press("End")
        box.press_sequentially(REPLY)
        expect(box).to_have_value(f"@alice {REPLY}")
        reply_form.get_by_role("button", name="Reply").click()
        bob.wait_for_url(permalink)
        replies = bob.locator("section.replies")
        # Read-your-writes: the page right after the redirect lists the reply, even before
        # the background job has linked it to its parent.
        expect(replies.locator("h2")).to_have_text("1 reply", timeout=1000)
        expect(replies.locator("article.post p.post-text")).to_have_text([f"@alice {REPLY}"])

        # Two unread now: the like and the reply, counted live.
        expect(badge).to_have_text("2", timeout=LIVE_MS)
        _assert_not_reloaded(alice)
        screenshot(alice, rootpath, "notifications-badge.png")

        # Alice reads them, newest first.
        alice.locator("header a[data-notifications-link]").click()
        alice.wait_for_url(base + "/notifications")
        items = alice.locator("li.notification")
        expect(items).to_have_count(3)
        reply_item, like_item, follow_item = items.nth(0), items.nth(1), items.nth(2)
        expect(reply_item).to_have_class(re.compile(r"\breply\b.*\bunread\b"))
        expect(reply_item.locator("p")).to_contain_text("bob replied to you")
        expect(reply_item.locator("a.quoted")).to_have_text(f"@alice {REPLY}")
        expect(like_item).to_have_class(re.compile(r"\blike\b.*\bunread\b"))
        expect(like_item.locator("p")).to_contain_text("bob liked your post")
        expect(like_item.locator("a.quoted")).to_have_text(NEWER)
        expect(follow_item).to_have_class(re.compile(r"\bfollow\b"))
        expect(follow_item).not_to_have_class(re.compile(r"\bunread\b"))
        expect(badge).to_be_hidden()
        screenshot(alice, rootpath, "notifications.png")

        # Read means read: the badge stays hidden on the next page.
        alice.goto("/")
        expect(alice.locator("article.post p.post-text").first).to_have_text(NEWER)
        expect(badge).to_be_hidden()
    finally:
        for context in (alice_context, bob_context):
            context.close()


def test_reply_link_focuses_the_reply_box(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    context = browser.new_context(base_url=base)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        carol = register(context, base, "carol")
        carol.locator("form.compose textarea[name=status]").fill("Anyone there?")
        carol.locator("form.compose").get_by_role("button", name="Post").click()
        carol.wait_for_url(base + "/")
        _post(carol, "Anyone there?").get_by_role("link", name="Reply").click()
        carol.wait_for_url(re.compile(re.escape(base) + r"/@carol/\d+#reply$"))
        carol.wait_for_load_state("load")
        expect(carol.locator("form#reply textarea[name=status]")).to_be_focused()
    finally:
        context.close()
