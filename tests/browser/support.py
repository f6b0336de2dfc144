"""Steps the browser tests share: signing up, logging in, screenshots, live-stream readiness."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

PASSWORD = "correct horse battery"
TIMEOUT_MS = 10_000

# Test instrumentation only: note when each Server-Sent Events stream has sent its first
# "ready" event, which the server emits once it has subscribed to the broker. Without this a
# test could act before the page is listening and the live update would (rightly) be lost.
# The subclass leaves EventSource's behaviour as it is.
TRACK_STREAMS = """
(() => {
  const Native = window.EventSource;
  if (!Native) return;
  window.__streamsReady = {};
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      const path = new URL(url, location.href).pathname;
      window.__streamsReady[path] = false;
      this.addEventListener("ready", () => { window.__streamsReady[path] = true; });
    }
  };
})();
"""


def register(context: BrowserContext, base_url: str, username: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/register")
    form = page.locator("form[action='/register']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=email]").fill(f"{username}@example.com")
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    page.wait_for_url(base_url + "/")
    # Signed in: the header offers "Log out" and a link to one's own profile.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(f"header a[href='/@{username}']")).to_be_visible()
    return page


def log_in(context: BrowserContext, base_url: str, username: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/login")
    form = page.locator("form[action='/login']")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + "/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def screenshot(page: Page, rootpath: Path, name: str) -> None:
    out = rootpath / "test-output" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / name), full_page=True)


def wait_for_streams(page: Page, *paths: str) -> None:
    """Wait until the page's EventSource for each path has received the server's "ready"."""
    for path in paths:
        page.wait_for_function(
            "path => window.__streamsReady && window.__streamsReady[path] === true",
            arg=path,
            timeout=TIMEOUT_MS,
        )
