"""How long a post takes to reach a follower's open home page.

Starts ``twoorl serve`` (and optionally a separate ``twoorl worker``), registers an author and
a follower over HTTP, holds the follower's ``/stream/home`` Server-Sent Events connection open,
and has the author post N times. For each post it records the time from sending the form to
the ``post`` event arriving on the follower's stream, and from the server's answer to it.

    uv run python benchmarks/live_delivery.py                     # SQLite, in-process worker
    uv run python benchmarks/live_delivery.py --shards URL1,URL2 --redis redis://127.0.0.1:6379/0 \
        --separate-worker                                        # PostgreSQL + Redis + worker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def signed_in_client(base: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/register")
    token = CSRF_RE.search(page.text).group(1)
    response = await client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": username,
            "email": f"{username}@example.org",
            "password": "benchmark-password",
        },
    )
    assert response.status_code == 303, response.text[:500]
    return client


async def csrf(client: httpx.AsyncClient) -> str:
    return CSRF_RE.search((await client.get("/settings")).text).group(1)


async def measure(base: str, posts: int) -> dict[str, list[float]]:
    suffix = str(int(time.time() * 1000))[-6:]
    author = await signed_in_client(base, f"author{suffix}")
    follower = await signed_in_client(base, f"reader{suffix}")
    token = await csrf(follower)
    await follower.post(f"/@author{suffix}/follow", data={"csrf_token": token})
    author_token = await csrf(author)
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    ready = asyncio.Event()

    async def listen() -> None:
        async with follower.stream("GET", "/stream/home", timeout=None) as stream:
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "ready":
                    ready.set()
                elif line.startswith("data:") and event == "post":
                    arrivals.put_nowait(time.perf_counter())

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 10)
    # One unmeasured post first: a freshly started worker may still be starting up.
    await author.post("/posts", data={"csrf_token": author_token, "status": "warm-up"})
    await asyncio.wait_for(arrivals.get(), 60)
    from_send, from_answer = [], []
    for i in range(posts):
        sent = time.perf_counter()
        response = await author.post(
            "/posts", data={"csrf_token": author_token, "status": f"benchmark post {i}"}
        )
        answered = time.perf_counter()
        assert response.status_code == 303, response.text[:500]
        arrived = await asyncio.wait_for(arrivals.get(), 30)
        from_send.append((arrived - sent) * 1000)
        from_answer.append((arrived - answered) * 1000)
        await asyncio.sleep(0.05)
    listener.cancel()
    for client in (author, follower):
        await client.aclose()
    return {
        "post sent -> on follower's stream": from_send,
        "post answered -> on stream": from_answer,
    }


def wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"twoorl serve exited:\n{log.read_text()}")
        try:
            if httpx.get(base + "/public", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("twoorl serve did not answer in 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--shards", default="", help="TWOORL_SHARDS (default: temp SQLite)")
    parser.add_argument("--redis", default="", help="TWOORL_REDIS_URL")
    parser.add_argument("--separate-worker", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="twoorl-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    env |= {
        "TWOORL_DATA_DIR": str(workdir / "data"),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
        "TWOORL_RATE_LIMIT_REGISTER": "1000/minute",
    }
    if args.shards:
        env["TWOORL_SHARDS"] = args.shards
    if args.redis:
        env["TWOORL_REDIS_URL"] = args.redis
    if args.separate_worker:
        env["TWOORL_INLINE_WORKERS"] = "false"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = []
    log = workdir / "serve.log"
    try:
        with log.open("w") as out:
            serve = subprocess.Popen(
                [*TWOORL, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
            )
            processes.append(serve)
            wait_until_up(base, serve, log)
            if args.separate_worker:
                processes.append(
                    subprocess.Popen([*TWOORL, "worker"], env=env, stdout=out, stderr=out)
                )
            figures = asyncio.run(measure(base, args.posts))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    setup = (
        "SQLite, in-process worker"
        if not args.shards
        else f"{len(args.shards.split(','))} shard(s)"
    )
    if args.redis:
        setup += " + Redis"
    if args.separate_worker:
        setup += ", separate worker"
    print(f"Live delivery to an open follower's home stream ({setup}, {args.posts} posts)")
    print(f"{'measure':<38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    summary = {}
    for name, values in figures.items():
        row = {
            "p50_ms": statistics.median(values),
            "p95_ms": percentile(values, 95),
            "max_ms": max(values),
        }
        summary[name] = row
        print(f"{name:<38} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "figures": summary}, indent=2))


if __name__ == "__main__":
    main()
