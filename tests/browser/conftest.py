"""Fixtures for the browser tests: a real ``twoorl serve`` process and a headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"twoorl serve exited with {process.returncode} before answering:\n"
                + log_path.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(
        f"twoorl serve did not answer {url} within {STARTUP_TIMEOUT:.0f}s:\n"
        + log_path.read_text(errors="replace")
    )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``twoorl serve`` on a free port, with its own SQLite data dir."""
    root = tmp_path_factory.mktemp("twoorl-live")
    data_dir = root / "data"
    log_path = root / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "TWOORL_DATA_DIR": str(data_dir),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
        "TWOORL_RATE_LIMIT_REGISTER": "1000/minute",
        "PYTHONUNBUFFERED": "1",
    }
    # The console script sits next to the interpreter in the venv; fall back to the module.
    script = Path(sys.executable).with_name("twoorl")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from twoorl.cli import main; main()"]
    )
    command += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_until_up(process, base_url + "/", log_path)
        yield LiveServer(base_url=base_url, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer) and server.log_path.exists():
        report.sections.append(("twoorl serve log", server.log()))
    return report
