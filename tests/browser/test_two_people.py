"""Two people in two browsers: sign up, follow, post, and read the home timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from .support import log_in, register, screenshot

pytestmark = pytest.mark.browser

MAX_LENGTH = 140
HELLO = "Hello from the browser test #twoorl"


def test_follow_post_and_read_home_timeline(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    rootpath = request.config.rootpath
    alice_context = browser.new_context(base_url=base)
    bob_context = browser.new_context(base_url=base)
    no_js_context = browser.new_context(base_url=base, java_script_enabled=False)
    try:
        alice = register(alice_context, base, "alice")
        bob = register(bob_context, base, "bob")

        # Bob follows Alice from her profile page.
        bob.goto(base + "/@alice")
        expect(bob.locator(".profile h1")).to_contain_text("@alice")
        bob.locator("form[action='/@alice/follow']").get_by_role("button", name="Follow").click()
        bob.wait_for_url(base + "/@alice")
        expect(bob.get_by_role("button", name="Unfollow")).to_be_visible()

        # Alice types; the counter counts down as she goes.
        compose = alice.locator("form.compose")
        box = compose.locator("textarea[name=status]")
        counter = compose.locator("span[data-counter]")
        post_button = compose.get_by_role("button", name="Post")
        expect(counter).to_have_text(str(MAX_LENGTH))
        expect(post_button).to_be_disabled()
        box.press_sequentially("Hello")
        expect(counter).to_have_text(str(MAX_LENGTH - len("Hello")))
        box.press_sequentially(HELLO.removeprefix("Hello"))
        expect(counter).to_have_text(str(MAX_LENGTH - len(HELLO)))
        expect(post_button).to_be_enabled()
        # Over the limit the counter goes negative and the button refuses.
        box.fill("x" * (MAX_LENGTH + 1))
        expect(counter).to_have_text("-1")
        expect(counter).to_have_class(re.compile(r"\bover\b"))
        expect(post_button).to_be_disabled()
        box.fill("")
        box.press_sequentially(HELLO)
        expect(counter).to_have_text(str(MAX_LENGTH - len(HELLO)))
        post_button.click()
        alice.wait_for_url(base + "/")
        expect(alice.locator("article.post p.post-text").first).to_have_text(HELLO)
        expect(alice.locator("form.compose textarea[name=status]")).to_have_value("")

        # Bob sees Alice's post on his home timeline.
        bob.goto(base + "/")
        expect(bob.locator("h1")).to_have_text("Home")
        post = bob.locator("article.post", has=bob.locator("a.author[href='/@alice']"))
        expect(post).to_have_count(1)
        expect(post.locator("p.post-text")).to_have_text(HELLO)
        expect(post.locator("p.post-text")).to_be_visible()
        screenshot(bob, rootpath, "home.png")

        alice.goto(base + "/@alice")
        expect(alice.locator("article.post p.post-text")).to_have_text([HELLO])
        screenshot(alice, rootpath, "profile.png")

        # Without JavaScript nothing stops a long post client-side; the server refuses it,
        # says why, and keeps the text.
        too_long = ("This post is far too long for Twoorl. " * 4).strip()
        assert len(too_long) > MAX_LENGTH
        no_js = log_in(no_js_context, base, "alice")
        no_js.locator("form.compose textarea[name=status]").fill(too_long)
        no_js.locator("form.compose").get_by_role("button", name="Post").click()
        no_js.wait_for_load_state()
        error = no_js.locator("form.compose #status-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("too long")
        expect(error).to_contain_text(f"the limit is {MAX_LENGTH}")
        expect(no_js.locator("form.compose textarea[name=status]")).to_have_value(too_long)
        expect(no_js.locator("article.post p.post-text")).to_have_text([HELLO])

        # And logging out from the header works without JavaScript too.
        no_js.get_by_role("button", name="Log out").click()
        no_js.wait_for_url(base + "/")
        expect(no_js.get_by_role("link", name="Log in")).to_be_visible()
    finally:
        for context in (alice_context, bob_context, no_js_context):
            context.close()
