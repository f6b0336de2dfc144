"""Live events across processes: a post made through one ``twoorl serve`` reaches an SSE
stream held open on another, through a separate ``twoorl worker`` and Redis.

Real processes on three PostgreSQL shards and the Redis server; nothing runs jobs inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from conftest import _truncate_all, forget_redis_prefix, post_ids, run_blocking, skip_or_fail

pytestmark = pytest.mark.postgres

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]
REDIS_URL = os.environ.get("TWOORL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET_KEY = "cross-process-test-secret-key-0123456789abcdef"
STARTUP_TIMEOUT = 60.0
EVENT_TIMEOUT = 10.0
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers() -> str | None:
    """None if Redis answers PING, else why not."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis is not reachable at {REDIS_URL}: {error}"
    finally:
        client.close()
    return None


@dataclass
class Cluster:
    root: Path
    urls: list[str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    base_urls: dict[str, str] = field(default_factory=dict)
    # Keys of this test's own in the shared Redis (the fan-out timelines), removed after.
    redis_prefix: str = field(default_factory=lambda: f"twoorl-test:{os.getpid()}:live:")

    def env(self, name: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
        return {
            **clean,
            "TWOORL_SHARDS": ",".join(self.urls),
            "TWOORL_DATA_DIR": str(self.root / f"data-{name}"),
            "TWOORL_REDIS_URL": REDIS_URL,
            "TWOORL_REDIS_PREFIX": self.redis_prefix,
            "TWOORL_INLINE_WORKERS": "false",
            "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
            "TWOORL_RATE_LIMIT_REGISTER": "1000/minute",
            "TWOORL_SECRET_KEY": SECRET_KEY,
            "PYTHONUNBUFFERED": "1",
        }

    def log_path(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def start(self, name: str, *args: str) -> None:
        with self.log_path(name).open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [*TWOORL, *args],
                env=self.env(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def serve(self, name: str) -> None:
        port = _free_port()
        self.base_urls[name] = f"http://127.0.0.1:{port}"
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port))

    def logs(self) -> str:
        return "\n".join(
            f"---- {name} (exit {process.returncode}) ----\n"
            + self.log_path(name).read_text(errors="replace")
            for name, process in self.processes.items()
        )

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.logs()}")

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        waiting = dict(self.base_urls)
        while waiting:
            self.assert_running()
            if time.monotonic() > deadline:
                pytest.fail(f"{sorted(waiting)} did not answer in time:\n{self.logs()}")
            for name, base_url in list(waiting.items()):
                try:
                    with urllib.request.urlopen(base_url + "/", timeout=2) as response:
                        if response.status == 200:
                            del waiting[name]
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.2)
        # The worker has no port: it is up once it says so.
        while "Twoorl worker:" not in self.log_path("worker").read_text(errors="replace"):
            self.assert_running()
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not start in time:\n{self.logs()}")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def cluster(postgres_urls: list[str], tmp_path: Path) -> Iterator[Cluster]:
    """Servers ``a`` and ``b`` and a ``worker``, all on the same shards and Redis."""
    problem = _redis_answers()
    if problem:
        skip_or_fail(problem)
    run_blocking(_truncate_all, postgres_urls)
    running = Cluster(tmp_path, postgres_urls)
    try:
        running.serve("a")
        running.serve("b")
        running.start("worker", "worker", "--concurrency", "2")
        running.wait_until_up()
        yield running
    finally:
        running.stop()
        forget_redis_prefix(REDIS_URL, running.redis_prefix)


@dataclass(frozen=True)
class Event:
    name: str
    data: str
    arrived: float  # time.monotonic()


async def read_events(response: httpx.Response, events: asyncio.Queue[Event]) -> None:
    name, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                await events.put(Event(name, "\n".join(data), time.monotonic()))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))


async def next_event(events: asyncio.Queue[Event], name: str, deadline: float) -> Event:
    while True:
        try:
            event = await asyncio.wait_for(events.get(), timeout=deadline - time.monotonic())
        except TimeoutError:
            pytest.fail(f"no '{name}' event arrived within {EVENT_TIMEOUT:.0f}s")
        if event.name == name:
            return event


async def register_and_post(base_url: str, username: str, status: str) -> tuple[int, float]:
    """Through one server: sign up, post; the post's id and when the POST was answered."""
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as person:
        form = await person.get("/register")
        assert form.status_code == 200
        token = CSRF_RE.search(form.text)
        assert token, form.text
        signed_up = await person.post(
            "/register",
            data={
                "csrf_token": token.group(1),
                "username": username,
                "email": f"{username}@example.org",
                "password": "correct horse battery",
            },
        )
        assert signed_up.status_code == 303, signed_up.text
        posted = await person.post("/posts", data={"csrf_token": token.group(1), "status": status})
        answered = time.monotonic()
        assert posted.status_code == 303, posted.text
        home = await person.get("/")
        assert status in home.text
        ids = post_ids(home.text)
        assert len(ids) == 1, ids
        return ids[0], answered


async def test_a_post_through_one_server_reaches_a_stream_on_another(cluster: Cluster) -> None:
    username = f"x{uuid.uuid4().hex[:12]}"
    status = f"hello from server a, {uuid.uuid4().hex}"
    events: asyncio.Queue[Event] = asyncio.Queue()
    try:
        async with (
            httpx.AsyncClient(base_url=cluster.base_urls["b"], timeout=None) as watcher,
            watcher.stream("GET", "/stream/public") as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_events(stream, events))
            try:
                await next_event(events, "ready", time.monotonic() + EVENT_TIMEOUT)
                post_id, answered = await register_and_post(
                    cluster.base_urls["a"], username, status
                )
                deadline = answered + EVENT_TIMEOUT
                while True:
                    event = await next_event(events, "post", deadline)
                    # Redis is shared: other runs' posts may pass by too.
                    if json.loads(event.data) == {"post_id": str(post_id)}:
                        break
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        latency = event.arrived - answered
        print(
            f"\nSSE latency from the POST's answer on A to the event on B: {latency * 1000:.0f} ms"
        )
        assert "posts.link" not in cluster.logs()  # the job did not fail on the way
    except BaseException:
        print(cluster.logs())
        raise
