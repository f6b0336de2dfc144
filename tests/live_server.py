"""A real ``twoorl serve`` process on a free port, for tests that need a live HTTP server
(the browser tests, the real Mastodon clients)."""

from __future__ import annotations

import contextlib
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

STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log_path: Path
    pid: int = 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
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


@contextlib.contextmanager
def twoorl_serve(root: Path, *, workers: int = 1, **environment: str) -> Iterator[LiveServer]:
    """``twoorl serve`` with its own SQLite data dir under ``root``; ``environment`` adds
    ``TWOORL_*`` settings."""
    log_path = root / "server.log"
    port = free_port()
    env = {
        **os.environ,
        "TWOORL_DATA_DIR": str(root / "data"),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
        "TWOORL_RATE_LIMIT_REGISTER": "1000/minute",
        "PYTHONUNBUFFERED": "1",
        **environment,
    }
    # The console script sits next to the interpreter in the venv; fall back to the module.
    script = Path(sys.executable).with_name("twoorl")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from twoorl.cli import main; main()"]
    )
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_until_up(process, base_url + "/", log_path)
        yield LiveServer(base_url=base_url, log_path=log_path, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def attach_server_log(item: pytest.Item, report: pytest.TestReport) -> None:
    """When a test that used a live server fails, show what the server logged."""
    for value in getattr(item, "funcargs", {}).values():
        if report.failed and isinstance(value, LiveServer) and value.log_path.exists():
            report.sections.append(("twoorl serve log", value.log()))
