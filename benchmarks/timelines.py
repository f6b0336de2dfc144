"""Home-timeline latency: fan-in against fan-out (Redis, with the hybrid for big authors),
in-process and over HTTP, for readers following 10 to 5,000 accounts on 1, 4 and 8
PostgreSQL shards; and fan-out delivery time for authors with 1,000 and 10,000 followers.

For each shard count it creates fresh databases ``twoorl_bench_<n>_<i>`` on the PostgreSQL
server, loads ``--users`` authors with ``--posts-per-user`` posts each (``twoorl.demo``), gives
one reader per followee count exactly that many followees, then measures:

- in-process: ``timelines.home`` called directly, ``--requests`` calls at each concurrency
  (asyncio tasks in one event loop, as in one server process);
- over HTTP: the signed-in home page ``/`` of ``twoorl serve --workers 2`` under ``wrk`` for
  ``--duration`` seconds at each concurrency (``apt-get install wrk``).

Fan-out readers are measured warm (their cached timeline already built by one read), as an
active person's are. Needs PostgreSQL and Redis on loopback. Prints a table; ``--json PATH``
writes every figure.

    uv run python benchmarks/timelines.py --json benchmarks/results/timelines.json
    uv run python benchmarks/timelines.py --quick      # small, seconds not comparable
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg
import httpx
import redis

from twoorl.accounts.passwords import Passwords
from twoorl.accounts.service import get_by_id
from twoorl.demo import DEMO_PASSWORD, DemoSpec, bulk_follow, populate
from twoorl.jobs.worker import Worker
from twoorl.posts.service import create_post
from twoorl.storage.migrate import migrate_shards
from twoorl.storage.shards import ShardSet
from twoorl.timelines import service as timelines
from twoorl.timelines.cache import HomeTimelines
from twoorl.timelines.paging import PageRequest

PG_ADMIN = os.environ.get("TWOORL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST = os.environ.get("TWOORL_BENCH_PG_HOST", "127.0.0.1:5432")
REDIS_URL = os.environ.get("TWOORL_BENCH_REDIS", "redis://127.0.0.1:6379/0")
# Databases are named ``<DATABASE_PREFIX>_<shard count>_<i>``; other benchmarks that import
# these helpers set their own prefix so that two runs never drop each other's databases.
DATABASE_PREFIX = "twoorl_bench"
SECRET_KEY = "benchmark-secret-key-" + "0" * 32
ROOT = Path(__file__).resolve().parent.parent

# Targets from the issue: 5,000 followees, 8 shards, concurrency 16, over HTTP.
TARGETS = {"fan-out": (0.005, 0.025), "fan-in": (0.025, 0.080)}
DELIVERY_TARGET = 0.1  # seconds, 10,000 followers (issue 12)
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("TWOORL p50=%d p95=%d p99=%d requests=%d errors=%d status=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
"""


@dataclass
class Row:
    mode: str  # in-process | http
    strategy: str  # fan-in | fan-out
    shards: int
    followees: int
    concurrency: int
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float
    errors: int = 0


@dataclass
class Delivery:
    shards: int
    followers: int
    seconds: float  # post committed -> its id in every follower's timeline
    delivered: int


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# Databases -------------------------------------------------------------------------------


def database_names(count: int) -> list[str]:
    return [f"{DATABASE_PREFIX}_{count}_{i}" for i in range(count)]


def shard_urls(count: int) -> list[str]:
    return [f"postgresql+asyncpg://postgres@{PG_HOST}/{name}" for name in database_names(count)]


async def recreate_databases(count: int) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        for name in database_names(count):
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_databases(count: int) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        for name in database_names(count):
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Layout:
    count: int
    readers: dict[int, int]  # followees -> reader account id
    authors: list[int]
    reader_names: dict[int, str]


async def load_layout(count: int, args: argparse.Namespace) -> Layout:
    await recreate_databases(count)
    shards = ShardSet(shard_urls(count))
    try:
        await migrate_shards(shards)
        spec = DemoSpec(
            users=args.users,
            posts_per_user=args.posts_per_user,
            follows_per_user=0,
            seed=7,
            prefix="bench",
            notifications=False,
        )
        summary = await populate(
            shards, spec, progress=not args.quiet, passwords=Passwords("cheapest")
        )
        ids = summary.account_ids
        sizes = [n for n in args.followees if n <= len(ids) - len(args.followees)]
        readers = dict(zip(sizes, ids[: len(sizes)], strict=True))
        authors = ids[len(sizes) :]
        for size, reader in readers.items():
            await bulk_follow(shards, [(reader, a) for a in authors[:size]], notify=False)
        await analyze(shards)  # as autovacuum would: the follows came after the demo's ANALYZE
        names = {size: spec.username(ids.index(reader) + 1) for size, reader in readers.items()}
        return Layout(count, readers, authors, names)
    finally:
        await shards.dispose()


async def analyze(shards: ShardSet) -> None:
    for shard in shards.shards:
        async with shard.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")


# In-process ------------------------------------------------------------------------------


async def measure(
    call: Callable[[], Awaitable[object]], requests: int, concurrency: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = requests

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began


async def in_process(layout: Layout, args: argparse.Namespace, prefix: str) -> list[Row]:
    shards = ShardSet(shard_urls(layout.count))
    cache = HomeTimelines.from_url(REDIS_URL, prefix=prefix)
    rows: list[Row] = []
    try:
        for strategy, used in (("fan-in", None), ("fan-out", cache)):
            for size, reader in layout.readers.items():

                async def read(reader: int = reader, used: HomeTimelines | None = used) -> None:
                    await timelines.home(shards, reader, PageRequest(), used)

                await read()  # builds the fan-out reader's cached timeline
                for concurrency in args.concurrency:
                    # Warm at this concurrency first: pooled connections, prepared plans.
                    await measure(read, concurrency * 4, concurrency)
                    samples, elapsed = await measure(read, args.requests, concurrency)
                    rows.append(
                        row("in-process", strategy, layout, size, concurrency, samples, elapsed)
                    )
                    report(rows[-1], args)
    finally:
        await cache.close()
        await shards.dispose()
    return rows


def row(mode, strategy, layout, size, concurrency, samples, elapsed) -> Row:
    return Row(
        mode=mode,
        strategy=strategy,
        shards=layout.count,
        followees=size,
        concurrency=concurrency,
        requests=len(samples),
        p50_ms=percentile(samples, 50) * 1000,
        p95_ms=percentile(samples, 95) * 1000,
        p99_ms=percentile(samples, 99) * 1000,
        per_second=len(samples) / elapsed,
    )


def report(result: Row, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(
            f"  {result.mode:10} {result.strategy:7} shards={result.shards} "
            f"followees={result.followees:<5} c={result.concurrency:<2} "
            f"p50={result.p50_ms:7.2f} p95={result.p95_ms:7.2f} p99={result.p99_ms:7.2f} ms "
            f"{result.per_second:8.0f}/s errors={result.errors}",
            flush=True,
        )


# Over HTTP -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``twoorl serve`` in a subprocess, with or without Redis fan-out. ``pool_size``
    overrides the per-shard connection pool; ``extra_env`` adds or overrides settings."""

    def __init__(
        self,
        layout: Layout,
        redis_prefix: str | None,
        workdir: Path,
        *,
        pool_size: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
        env.update(
            TWOORL_SHARDS=",".join(shard_urls(layout.count)),
            TWOORL_DATA_DIR=str(workdir),
            TWOORL_SECRET_KEY=SECRET_KEY,
            TWOORL_RATE_LIMIT_LOGIN="100000/minute",
            TWOORL_INLINE_WORKERS="false",
            # Two server processes must stay under PostgreSQL's 100 connections.
            TWOORL_DB_POOL_SIZE=str(pool_size or max(1, min(10, 80 // (2 * layout.count)))),
        )
        if redis_prefix:
            env.update(TWOORL_REDIS_URL=REDIS_URL, TWOORL_REDIS_PREFIX=redis_prefix)
        env.update(extra_env or {})
        self.log = (workdir / f"serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from twoorl.cli import main; main()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "2",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"twoorl serve did not start; see {self.log.name}")

    def session_cookie(self, username: str) -> str:
        with httpx.Client(base_url=self.url) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            answer = client.post(
                "/login",
                data={"csrf_token": token, "login": username, "password": DEMO_PASSWORD},
            )
            if answer.status_code != 303:
                raise RuntimeError(f"cannot sign in as {username}: {answer.status_code}")
            return "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(
    url: str,
    cookie: str | None,
    concurrency: int,
    seconds: float,
    script: Path,
    *,
    headers: Sequence[str] = (),
    latency: bool = False,
) -> dict[str, int]:
    """One ``wrk -t1`` run; the figures that ``script`` prints on its ``TWOORL`` line.
    ``cookie`` (None: none) and ``headers`` ("Name: value") go with every request;
    ``latency`` adds ``--latency`` (wrk's own percentile table, in its output)."""
    sent = ([f"Cookie: {cookie}"] if cookie else []) + list(headers)
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{int(seconds)}s",
            "--timeout",
            "10s",
            *(["--latency"] if latency else []),
            "-s",
            str(script),
            *(part for header in sent for part in ("-H", header)),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"TWOORL (.*)", output)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    return {k: int(v) for k, v in (p.split("=") for p in found.group(1).split())}


def over_http(layout: Layout, args: argparse.Namespace, prefix: str, workdir: Path) -> list[Row]:
    script = workdir / "summary.lua"
    script.write_text(WRK_SCRIPT)
    rows: list[Row] = []
    for strategy, redis_prefix in (("fan-in", None), ("fan-out", prefix)):
        server = Server(layout, redis_prefix, workdir)
        try:
            for size, name in layout.reader_names.items():
                cookie = server.session_cookie(name)
                for _ in range(3):
                    httpx.get(server.url + "/", headers={"Cookie": cookie}, timeout=30)
                for concurrency in args.concurrency:
                    wrk(server.url + "/", cookie, concurrency, 1, script)  # warm-up, discarded
                    figures = wrk(server.url + "/", cookie, concurrency, args.duration, script)
                    rows.append(
                        Row(
                            mode="http",
                            strategy=strategy,
                            shards=layout.count,
                            followees=size,
                            concurrency=concurrency,
                            requests=figures["requests"],
                            p50_ms=figures["p50"] / 1000,
                            p95_ms=figures["p95"] / 1000,
                            p99_ms=figures["p99"] / 1000,
                            per_second=figures["requests"] / args.duration,
                            errors=figures["errors"] + figures["status"],
                        )
                    )
                    report(rows[-1], args)
        finally:
            server.stop()
    return rows


# Fan-out delivery ------------------------------------------------------------------------


async def delivery(layout: Layout, followers: int, prefix: str) -> Delivery:
    """An author with ``followers`` active followers posts; time from the commit until the
    post's id is in every follower's cached timeline (one in-process worker runs the job)."""
    shards = ShardSet(shard_urls(layout.count))
    cache = HomeTimelines.from_url(REDIS_URL, prefix=prefix, max_followers=max(followers, 10_000))
    try:
        author_id, fans = layout.authors[-1], layout.authors[:followers]
        if len(fans) < followers:
            raise RuntimeError(f"--users is too small for {followers} followers")
        await bulk_follow(
            shards, [(fan, author_id) for fan in fans if fan != author_id], notify=False
        )
        await analyze(shards)
        for fan in fans:  # each fan has read their home lately: an empty, complete timeline
            token = await cache.begin_rebuild(fan)
            await cache.seed(fan, token, [], floor=0)
        author = await get_by_id(shards, author_id)
        worker = Worker(shards, timelines=cache)
        await worker.drain()
        post = await create_post(shards, author, "fan-out timing", max_length=140)
        started = time.perf_counter()
        await worker.drain()
        elapsed = time.perf_counter() - started
        member = f"{post.id:019d}:{author_id}"
        async with cache.redis.pipeline(transaction=False) as pipe:
            for fan in fans:
                pipe.zscore(cache._timeline(fan), member)
            delivered = sum(score is not None for score in await pipe.execute())
        return Delivery(layout.count, followers, elapsed, delivered)
    finally:
        await cache.close()
        await shards.dispose()


# Main ------------------------------------------------------------------------------------


def forget_redis(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=5000))
        for start in range(0, len(keys), 5000):
            client.delete(*keys[start : start + 5000])
    finally:
        client.close()


def print_table(rows: list[Row], deliveries: list[Delivery]) -> None:
    print(
        "\n| mode | strategy | shards | followees | c | p50 ms | p95 ms | p99 ms | req/s | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.mode} | {r.strategy} | {r.shards} | {r.followees} | {r.concurrency} | "
            f"{r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} | {r.per_second:.0f} | {r.errors} |"
        )
    if deliveries:
        print("\n| fan-out delivery | shards | followers | seconds | delivered |")
        print("|---|---|---|---|---|")
        for d in deliveries:
            print(
                f"| post → every follower | {d.shards} | {d.followers} | {d.seconds:.3f} "
                f"| {d.delivered} |"
            )
    print("\nTargets (8 shards, 5,000 followees, c=16):")
    for r in rows:
        key = (r.shards, r.followees, r.concurrency)
        if key != (8, 5000, 16):
            continue
        p50, p99 = TARGETS[r.strategy]
        met = r.p50_ms <= p50 * 1000 and r.p99_ms <= p99 * 1000
        print(
            f"  {r.mode} {r.strategy}: p50 {r.p50_ms:.1f} ms (<= {p50 * 1000:.0f}), "
            f"p99 {r.p99_ms:.1f} ms (<= {p99 * 1000:.0f}): {'met' if met else 'NOT met'}"
        )
    for d in deliveries:
        if d.followers == 10_000:
            verdict = "met" if d.seconds <= DELIVERY_TARGET else "NOT met"
            print(f"  delivery to 10,000: {d.seconds:.3f} s (<= {DELIVERY_TARGET}): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shards", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8]
    )
    parser.add_argument(
        "--followees", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000, 5000]
    )
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16]
    )
    parser.add_argument("--users", type=int, default=12_000)
    parser.add_argument("--posts-per-user", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="in-process calls per cell")
    parser.add_argument("--duration", type=float, default=5, help="wrk seconds per HTTP cell")
    parser.add_argument("--modes", default="in-process,http")
    parser.add_argument(
        "--delivery", type=lambda s: [int(x) for x in s.split(",") if x], default=[1000, 10_000]
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.shards, args.followees, args.users, args.posts_per_user = [1, 2], [5, 20], 60, 3
        args.requests, args.duration, args.delivery = 20, 1, [30]
    modes = set(args.modes.split(","))
    rows: list[Row] = []
    deliveries: list[Delivery] = []
    run = secrets.token_hex(3)
    with tempfile.TemporaryDirectory() as temp:
        for count in args.shards:
            prefix = f"twoorl-bench:{run}:{count}:"
            if not args.quiet:
                print(
                    f"{count} shard(s): loading {args.users} people x {args.posts_per_user} posts",
                    flush=True,
                )
            layout = asyncio.run(load_layout(count, args))
            try:
                if "in-process" in modes:
                    rows += asyncio.run(in_process(layout, args, prefix))
                if "http" in modes:
                    rows += over_http(layout, args, prefix + "http:", Path(temp))
                for followers in args.delivery:
                    if count == max(args.shards):
                        deliveries.append(
                            asyncio.run(delivery(layout, followers, prefix + f"d{followers}:"))
                        )
                        if not args.quiet:
                            print(
                                f"  delivery {followers}: {deliveries[-1].seconds:.3f} s",
                                flush=True,
                            )
            finally:
                forget_redis(prefix)
                if not args.keep:
                    asyncio.run(drop_databases(count))
    print_table(rows, deliveries)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                    "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                    "rows": [asdict(r) for r in rows],
                    "delivery": [asdict(d) for d in deliveries],
                    "targets": {
                        "http_8_shards_5000_c16": TARGETS,
                        "delivery_10000": DELIVERY_TARGET,
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
