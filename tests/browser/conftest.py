"""Fixtures for the browser tests: a real ``twoorl serve`` process and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live_server import LiveServer, attach_server_log, twoorl_serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``twoorl serve`` on a free port, with its own SQLite data dir."""
    with twoorl_serve(tmp_path_factory.mktemp("twoorl-live")) as server:
        yield server


@pytest.fixture(scope="module")
def browser(live_server: LiveServer):
    """A headless Debian Chromium driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """When a test that used the live server fails, show what the server logged."""
    report = yield
    attach_server_log(item, report)
    return report
