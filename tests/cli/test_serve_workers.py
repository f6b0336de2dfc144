"""``twoorl serve --workers N``: each worker listens on its own socket (SO_REUSEPORT), so
connections are spread over all of them, and SIGTERM stops them all."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from live_server import twoorl_serve

CONNECTIONS = 16


def established_owners(port: int) -> set[int]:
    """The processes holding accepted connections on ``port`` (from ``ss``)."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", out)}


def worker_pids(supervisor: int) -> set[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return {
        int(pid)
        for pid in children
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_connections_are_spread_over_every_worker(tmp_path: Path) -> None:
    with twoorl_serve(tmp_path, workers=2) as server:
        url = urlparse(server.base_url)
        workers = worker_pids(server.pid)
        assert len(workers) == 2, server.log()
        connections = [
            http.client.HTTPConnection(url.hostname, url.port) for _ in range(CONNECTIONS)
        ]
        try:
            for connection in connections:
                connection.request("GET", "/public")
                response = connection.getresponse()
                response.read()
                assert response.status == 200
            # Kept alive, each connection stays with the worker that accepted it.
            assert established_owners(url.port) == workers
        finally:
            for connection in connections:
                connection.close()
        process_log = server.log()
    assert process_log.count("Started server process") == 2


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    with twoorl_serve(tmp_path, workers=2) as server:
        workers = worker_pids(server.pid)
        assert len(workers) == 2
        os.kill(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and server.log().count("Finished server process") < 2:
            time.sleep(0.1)
        assert server.log().count("Finished server process") == 2, server.log()
