"""A moderator runs the community from the browser: someone reports a post, the admin (made
with `twoorl admin create`) sees it in /admin/reports, removes the post and closes the
report, then finds the decision in the log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Browser, expect

from .support import PASSWORD, log_in, register, screenshot

pytestmark = pytest.mark.browser


def make_admin(live_server, username: str) -> None:
    env = {
        **os.environ,
        "TWOORL_DATA_DIR": str(live_server.log_path.parent / "data"),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
    }
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from twoorl.cli import main; main()",
            "admin",
            "create",
            "--username",
            username,
            "--email",
            f"{username}@example.com",
            "--password-file",
            "-",
        ],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr


def test_report_then_resolve_from_the_queue(
    browser: Browser, live_server, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    make_admin(live_server, "chief")
    contexts = [browser.new_context(base_url=base) for _ in range(3)]
    try:
        author = register(contexts[0], base, "loud")
        author.locator("form.compose textarea[name=status]").fill("BUY FOLLOWERS NOW")
        author.locator("form.compose").get_by_role("button", name="Post").click()
        expect(author.locator("article", has_text="BUY FOLLOWERS NOW")).to_be_visible()

        reporter = register(contexts[1], base, "careful")
        reporter.goto(base + "/public")
        post = reporter.locator("article", has_text="BUY FOLLOWERS NOW")
        post.get_by_role("link", name="Report").click()
        reporter.get_by_label("Spam or advertising").check()
        reporter.locator("textarea[name=comment]").fill("Selling followers")
        reporter.get_by_role("button", name="Send report").click()
        expect(reporter.get_by_text("Your report is with the moderators.")).to_be_visible()

        chief = log_in(contexts[2], base, "chief")
        chief.goto(base + "/admin/reports")
        item = chief.locator(".admin-reports li", has_text="BUY FOLLOWERS NOW")
        expect(item).to_contain_text("Selling followers")
        screenshot(chief, request.config.rootpath, "admin-reports.png")
        item.locator("select[name=decision]").select_option("delete_post")
        item.locator("input[name=outcome]").fill("Removed: follower selling")
        item.get_by_role("button", name="Resolve").click()
        expect(chief.get_by_text("No reports are waiting.")).to_be_visible()

        chief.goto(base + "/admin/log")
        expect(chief.locator("table.admin-log")).to_contain_text("Removed: follower selling")
        screenshot(chief, request.config.rootpath, "admin-log.png")
        reporter.goto(base + "/public")
        expect(reporter.get_by_text("BUY FOLLOWERS NOW")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
