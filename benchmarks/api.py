"""The Mastodon-compatible API against Takahē, on Takahē's own benchmark shape: one reader
following 1,000 accounts with 20 posts each (20,000 timeline entries), ``twoorl serve
--workers 2``, ``wrk -t1 -c16 -d20s --latency`` on loopback.

For each shard count (1, 4 and 8) it creates fresh databases ``<--db-prefix>_<n>_<i>``, loads
the people with ``twoorl.demo`` (as ``timelines.py`` does), and for fan-in (no Redis) and
fan-out (Redis, the reader's cached timeline warm) starts ``twoorl serve --workers 2``, gets
the reader a bearer token through the real OAuth endpoints (``POST /api/v1/apps``, then
``POST /oauth/token`` with the password grant, scope ``read``), and measures with ``wrk``:

- ``GET /api/v1/timelines/home?limit=20`` (bearer token),
- ``GET /api/v1/timelines/public?limit=20`` (bearer token),
- ``GET /`` anonymous: the HTML front page (the public timeline).

Every cell reports req/s, p50, p99 and errors (socket errors and every non-2xx answer,
counted by a wrk Lua script), beside Takahē's figures from BENCHMARKS.md, and where the CPU
went during the run (/proc): milliseconds per request of the server, the PostgreSQL backends
of the benchmark's databases, Redis, wrk and everything else on the machine, and each
server worker's share. The API rate limit is raised for the run (``TWOORL_RATE_LIMIT_API``),
or wrk would be measuring 429s. The pools are sized like ``timelines.py``'s, within
``--connections`` (64) for the two processes, under PostgreSQL's 100.

    apt-get install wrk
    uv run python benchmarks/api.py --wait-load 1.0 --json benchmarks/results/api.json
    uv run python benchmarks/api.py --quick      # small, seconds not comparable
    uv run python benchmarks/api.py --report benchmarks/results/api.json   # tables again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timelines as bench  # benchmarks/timelines.py: databases, server, wrk
from twoorl.demo import DEMO_PASSWORD

DASH, TIMES = "\u2013", "\u00d7"  # en dash and multiplication sign, for the table
RATE_LIMIT_API = "1000000/minute"
RATE_LIMIT_LOGIN = "100000/minute"
ENDPOINTS = {
    "home": "/api/v1/timelines/home?limit=20",
    "public": "/api/v1/timelines/public?limit=20",
    "front": "/",
    "page": "/",  # the same address signed in: the reader's HTML home page
}
HTML = {"front", "page"}
# BENCHMARKS.md, "A peer: Takahē 0.11.0": req/s, p50 (low, high) ms, p99 (low, high) ms.
TAKAHE = {
    "home": {"per_second": 5, "p50_ms": (2600, 2900), "p99_ms": (5400, 5600)},
    "public": {"per_second": 25, "p50_ms": (600, 600), "p99_ms": (1000, 1000)},
    "front": {"per_second": 37, "p50_ms": (420, 420), "p99_ms": None},
}  # no figure for Takahē's signed-in home page
# Issue 12's targets: req/s on 1 shard and the p99 there; on more shards, a share of the
# 1-shard figure of the same endpoint and strategy.
TARGETS = {
    "home": {"per_second": 500, "p99_ms": 50},
    "public": {"per_second": 1000, "p99_ms": None},
    "front": {"per_second": 1000, "p99_ms": None},
    "page": {"per_second": 300, "p99_ms": None},
}
MANY_SHARDS_SHARE = 0.9
# timelines.py's summary line, plus every answer that is not a 2xx (wrk itself counts only
# status >= 400) and p90/max. ``response`` runs in the thread's Lua state, ``done`` in the
# main one: the count crosses over with thread:get.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  io.write(string.format(
    "TWOORL p50=%d p90=%d p99=%d max=%d requests=%d errors=%d status=%d non2xx=%d bytes=%d\\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status, bad, summary.bytes))
end
"""


@dataclass
class Cell:
    endpoint: str  # home | public | front
    path: str
    strategy: str  # fan-in | fan-out
    shards: int
    concurrency: int
    seconds: float
    requests: int
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors + non-2xx answers
    non_2xx: int
    bytes_per_response: float
    checked: str  # what one request answered before the run
    # CPU milliseconds per request during the run, by process group (/proc), and how busy the
    # machine's CPUs were in all (1.0: every core, all the time).
    cpu_ms_per_request: dict[str, float]
    machine_busy: float
    # Each server worker: CPU seconds per second of the run, and how many of wrk's
    # connections it held halfway through (the kernel hands each accepted one to a worker).
    worker_cores: list[float] = field(default_factory=list)
    worker_connections: list[int] = field(default_factory=list)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def wait_for_quiet(threshold: float, most_seconds: float, quiet: bool) -> list[float]:
    """Wait (checking every 30 s) until the 1-minute load average is below ``threshold``."""
    deadline = time.monotonic() + most_seconds
    while (load := loadavg())[0] >= threshold and time.monotonic() < deadline:
        if not quiet:
            print(f"load average {load[0]:.2f} >= {threshold}: waiting", flush=True)
        time.sleep(30)
    return loadavg()


# Authentication --------------------------------------------------------------------------


def bearer_token(url: str, username: str) -> str:
    """A ``read`` token for ``username`` through the real OAuth endpoints: register an app,
    then the password grant."""
    with httpx.Client(base_url=url, timeout=30) as client:
        app = client.post(
            "/api/v1/apps",
            data={
                "client_name": "twoorl-api-benchmark",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read",
            },
        )
        app.raise_for_status()
        answer = client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app.json()["client_id"],
                "client_secret": app.json()["client_secret"],
                "username": username,
                "password": DEMO_PASSWORD,
                "scope": "read",
            },
        )
        if answer.status_code != 200:
            raise RuntimeError(f"no token for {username}: {answer.status_code} {answer.text}")
        return answer.json()["access_token"]


# Checking and profiling ------------------------------------------------------------------


def check(url: str, endpoint: str, headers: dict[str, str], allowed: set[str]) -> str:
    """One request before the run: the answer must be a full, right page."""
    answer = httpx.get(url + ENDPOINTS[endpoint], headers=headers, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"{endpoint}: {answer.status_code} {answer.text[:300]}")
    if endpoint in HTML:
        if "text/html" not in answer.headers.get("content-type", ""):
            raise RuntimeError(f"{endpoint} is not HTML: {answer.headers}")
        if (endpoint == "page") != ("<h1>Home</h1>" in answer.text):
            raise RuntimeError(f"{endpoint}: not the page a {endpoint} visitor sees")
        return f"200 text/html, {len(answer.content)} bytes"
    statuses = answer.json()
    if len(statuses) != 20:
        raise RuntimeError(f"{endpoint}: {len(statuses)} statuses, not 20")
    if endpoint == "home" and not {s["account"]["id"] for s in statuses} <= allowed:
        raise RuntimeError("home: a status from someone the reader does not follow")
    return f"200, 20 statuses, {len(answer.content)} bytes"


def check_warm(prefix: str, reader: int) -> int:
    """The reader's cached home timeline: how many entries it holds (0: not built)."""
    client = redis.Redis.from_url(bench.REDIS_URL)
    try:
        floor = client.hget(f"{prefix}home-meta:{reader}", "floor")
        if floor is None or not floor.decode().isdigit():
            return 0
        return client.zcard(f"{prefix}home:{reader}")
    finally:
        client.close()


def children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:
        return []


def worker_pids(server: bench.Server) -> list[int]:
    """The ``twoorl serve`` worker processes (children of the supervisor that run the app)."""
    found = []
    for pid in children(server.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return sorted(found)


# CPU accounting: who used the CPUs during a run ---------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, over every core."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is already in user
    return (total - idle) / TICK, total / TICK


def redis_pids() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if proc.joinpath("comm").read_text().strip() == "redis-server":
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


async def _backend_pids(names: list[str]) -> list[int]:
    conn = await asyncpg.connect(bench.PG_ADMIN)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])", names
        )
        return [r["pid"] for r in rows]
    finally:
        await conn.close()


class CpuMeter:
    """CPU used between start() and stop() by the server (supervisor and workers), the
    PostgreSQL backends serving the benchmark's databases, Redis, wrk, and everything else
    on the machine (other people's work: noise)."""

    def __init__(self, server: bench.Server, database_names: list[str]) -> None:
        self.server, self.names = server, database_names

    def _groups(self, backends: list[int]) -> dict[str, list[int]]:
        pid = self.server.process.pid
        return {
            "twoorl": [pid, *children(pid)],
            "postgres": backends,
            "redis": redis_pids(),
        }

    def _read(self, groups: dict[str, list[int]]) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pids in groups.values() for pid in pids}

    def start(self, seconds: float) -> None:
        self.before = self._read(self._groups(asyncio.run(_backend_pids(self.names))))
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.machine = machine_cpu()
        self.workers = worker_pids(self.server)
        self.connections = [0] * len(self.workers)
        self.timer = threading.Timer(seconds / 2, self._count_connections)
        self.timer.start()
        self.started = time.monotonic()

    def _count_connections(self) -> None:
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{self.server.port} )"],
            capture_output=True,
            text=True,
        ).stdout
        self.connections = [listing.count(f"pid={pid},") for pid in self.workers]

    def stop(self, requests: int) -> tuple[dict[str, float], float]:
        elapsed = time.monotonic() - self.started
        self.timer.join()
        machine = machine_cpu()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Backends that connected during the run started from nothing.
        groups = self._groups(asyncio.run(_backend_pids(self.names)))
        after = self._read(groups)
        used = {
            name: sum(after[pid] - self.before.get(pid, 0.0) for pid in pids)
            for name, pids in groups.items()
        }
        # wrk is the child this process reaps during the run (besides one short ``ss``;
        # py-spy, when profiling, is reaped after stop()).
        used["wrk"] = (kids.ru_utime + kids.ru_stime) - (
            self.children.ru_utime + self.children.ru_stime
        )
        busy, total = machine[0] - self.machine[0], machine[1] - self.machine[1]
        used["other"] = max(0.0, busy - sum(used.values()))
        per_request = {k: round(v * 1000 / max(requests, 1), 2) for k, v in used.items()}
        self.worker_cores = [
            round((after.get(pid, 0.0) - self.before.get(pid, 0.0)) / elapsed, 2)
            for pid in self.workers
        ]
        return per_request, round(busy / total, 3) if total else 0.0


def start_profile(server: bench.Server, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy on one worker while wrk runs (raw collapsed stacks, --nonblocking)."""
    pids = worker_pids(server)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not pids:
        return None
    command = [spy, "record", "--nonblocking", "--pid", str(pids[0]), "--rate", "100"]
    command += ["--duration", str(int(seconds)), "--format", "raw", "--output", str(out)]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Running ---------------------------------------------------------------------------------


def measure_server(
    layout: bench.Layout,
    strategy: str,
    redis_prefix: str | None,
    args: argparse.Namespace,
    workdir: Path,
) -> list[Cell]:
    followees = args.followees
    reader, username = layout.readers[followees], layout.reader_names[followees]
    allowed = {str(a) for a in layout.authors[:followees]} | {str(reader)}
    script = workdir / "api.lua"
    script.write_text(WRK_SCRIPT)
    pool = max(1, min(10, args.connections // (2 * layout.count)))
    server = bench.Server(
        layout,
        redis_prefix,
        workdir,
        pool_size=pool,
        extra_env={
            "TWOORL_RATE_LIMIT_API": RATE_LIMIT_API,
            "TWOORL_RATE_LIMIT_LOGIN": RATE_LIMIT_LOGIN,
        },
    )
    cells = []
    try:
        token = bearer_token(server.url, username)
        cookie = server.session_cookie(username) if "page" in args.endpoints else ""
        for endpoint in args.endpoints:
            headers = {
                "front": {},
                "page": {"Cookie": cookie},
            }.get(endpoint, {"Authorization": f"Bearer {token}"})
            for _ in range(3):  # first requests: connections, caches, the fan-out rebuild
                checked = check(server.url, endpoint, headers, allowed)
            if redis_prefix and endpoint == "home":
                entries = check_warm(redis_prefix, reader)
                if not entries:
                    raise RuntimeError("fan-out: the reader's cached timeline was not built")
                checked += f"; cached timeline warm ({entries} entries)"
            sent = [f"{k}: {v}" for k, v in headers.items()]
            url = server.url + ENDPOINTS[endpoint]
            if args.warmup:
                bench.wrk(url, None, args.concurrency, args.warmup, script, headers=sent)
            meter = CpuMeter(server, bench.database_names(layout.count))
            meter.start(args.duration)
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                name = f"{layout.count}-{strategy}-{endpoint}.txt"
                profile = start_profile(server, args.duration, args.profile / name)
            figures = bench.wrk(
                url, None, args.concurrency, args.duration, script, headers=sent, latency=True
            )
            requests = figures["requests"]
            cpu, busy = meter.stop(requests)
            if profile:
                profile.wait(60)
            cells.append(
                Cell(
                    endpoint=endpoint,
                    path=ENDPOINTS[endpoint] + (" (signed in)" if endpoint == "page" else ""),
                    strategy=strategy,
                    shards=layout.count,
                    concurrency=args.concurrency,
                    seconds=args.duration,
                    requests=requests,
                    per_second=requests / args.duration,
                    p50_ms=figures["p50"] / 1000,
                    p90_ms=figures["p90"] / 1000,
                    p99_ms=figures["p99"] / 1000,
                    max_ms=figures["max"] / 1000,
                    errors=figures["errors"] + figures["non2xx"],
                    non_2xx=figures["non2xx"],
                    bytes_per_response=figures["bytes"] / max(requests, 1),
                    checked=checked,
                    cpu_ms_per_request=cpu,
                    machine_busy=busy,
                    worker_cores=meter.worker_cores,
                    worker_connections=meter.connections,
                )
            )
            if not args.quiet:
                c = cells[-1]
                print(
                    f"  {c.endpoint:6} {c.strategy:7} shards={c.shards} {c.per_second:7.1f}/s "
                    f"p50={c.p50_ms:8.2f} p99={c.p99_ms:8.2f} ms errors={c.errors} "
                    f"cpu ms/request {c.cpu_ms_per_request} busy={c.machine_busy:.0%} "
                    f"workers: cores {c.worker_cores} connections {c.worker_connections}",
                    flush=True,
                )
    except Exception:
        print(Path(server.log.name).read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()
    return cells


# Reporting -------------------------------------------------------------------------------


def span(low: float, high: float) -> str:
    return f"{low:.0f}" if round(low) == round(high) else f"{low:.0f}{DASH}{high:.0f}"


def ratio(low: float, high: float) -> str:
    same = f"{low:.1f}" == f"{high:.1f}"
    return f"{low:.1f}{TIMES}" if same else f"{low:.1f}{DASH}{high:.1f}{TIMES}"


OURS = ("twoorl", "postgres", "redis", "wrk")


def cpu_ceiling(cell: Cell, cpus: int) -> float:
    """Requests/s if the benchmark had every core to itself: cores ÷ the CPU that one
    request cost the server, PostgreSQL, Redis and wrk (other people's work left out)."""
    ours = sum(cell.cpu_ms_per_request.get(name, 0.0) for name in OURS)
    return cpus * 1000 / ours if ours else 0.0


def comparison(cell: Cell, cpus: int) -> dict[str, object]:
    ceiling = round(cpu_ceiling(cell, cpus), 1)
    peer = TAKAHE.get(cell.endpoint)
    if peer is None:
        return {"cpu_ceiling_per_second": ceiling, "takahe": None}
    p50, p99 = peer["p50_ms"], peer["p99_ms"]
    return {
        "cpu_ceiling_per_second": ceiling,
        "takahe": peer,
        "throughput_ratio": round(cell.per_second / peer["per_second"], 2),
        "p50_ratio": [round(p / cell.p50_ms, 2) for p in p50] if cell.p50_ms else None,
        "p99_ratio": [round(p / cell.p99_ms, 2) for p in p99] if p99 and cell.p99_ms else None,
    }


def target_of(cell: Cell, cells: list[Cell]) -> tuple[str, bool]:
    """The target for this cell, as text, and whether the cell meets it."""
    goal = TARGETS[cell.endpoint]
    if cell.shards == 1:
        met = cell.per_second >= goal["per_second"] and (
            goal["p99_ms"] is None or cell.p99_ms <= goal["p99_ms"]
        )
        p99 = f", p99 ≤ {goal['p99_ms']} ms" if goal["p99_ms"] else ""
        return f"≥ {goal['per_second']}/s{p99}", met
    one = next(
        (
            c
            for c in cells
            if (c.endpoint, c.strategy, c.shards) == (cell.endpoint, cell.strategy, 1)
        ),
        None,
    )
    if one is None:
        return "—", True
    floor = MANY_SHARDS_SHARE * one.per_second
    return f"≥ {floor:.0f}/s (90% of 1 shard)", cell.per_second >= floor


def print_table(cells: list[Cell], cpus: int) -> None:
    print(
        "\n| endpoint | strategy | shards | req/s | p50 ms | p99 ms | errors | target | met "
        "| Takahē req/s | Takahē p50 ms | Takahē p99 ms | req/s ratio | p50 ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        peer, versus = TAKAHE.get(c.endpoint), comparison(c, cpus)
        goal, met = target_of(c, cells)
        if peer is None:
            peer_cells = "— | — | — | — | —"
        else:
            p99 = span(*peer["p99_ms"]) if peer["p99_ms"] else "—"
            p50_ratio = ratio(*versus["p50_ratio"]) if versus["p50_ratio"] else "—"
            peer_cells = (
                f"{peer['per_second']} | {span(*peer['p50_ms'])} | {p99} "
                f"| {versus['throughput_ratio']:.1f}{TIMES} | {p50_ratio}"
            )
        print(
            f"| `{c.path}` | {c.strategy} | {c.shards} | {c.per_second:.0f} | {c.p50_ms:.1f} "
            f"| {c.p99_ms:.1f} | {c.errors} | {goal} | {'yes' if met else '**no**'} "
            f"| {peer_cells} |"
        )
    print("\nratios: Twoorl's req/s ÷ Takahē's; Takahē's p50 ÷ Twoorl's (higher is better)")
    print(
        "\n| endpoint | strategy | shards | twoorl serve ms | PostgreSQL ms | Redis ms | wrk ms "
        f"| others' ms | CPUs busy | CPU ceiling req/s ({cpus} CPUs) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        ms = c.cpu_ms_per_request
        print(
            f"| {c.endpoint} | {c.strategy} | {c.shards} | {ms['twoorl']:.2f} "
            f"| {ms['postgres']:.2f} | {ms['redis']:.2f} | {ms['wrk']:.2f} | {ms['other']:.2f} "
            f"| {c.machine_busy:.0%} | {cpu_ceiling(c, cpus):.0f} |"
        )
    print(
        "\nCPU milliseconds per request during the run; others' = the rest of the machine's "
        "busy time (other work on the machine: noise). Target for the API home timeline: "
        "twoorl serve ≤ 2 ms per request."
    )


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    lines = (done.stdout or done.stderr).splitlines()
    return lines[0].strip() if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    parser.add_argument("--shards", type=ints, help="shard counts (default 1,4,8; quick 1,2)")
    parser.add_argument("--followees", type=int, default=1000, help="the reader follows this many")
    parser.add_argument("--posts-per-user", type=int, default=20)
    parser.add_argument("--strategies", default="fan-in,fan-out")
    parser.add_argument("--endpoints", default="home,public,front,page")
    parser.add_argument("--concurrency", type=int, default=16, help="wrk -c")
    parser.add_argument("--duration", type=float, default=20, help="wrk seconds per cell")
    parser.add_argument("--warmup", type=float, default=2, help="wrk seconds before each cell")
    parser.add_argument(
        "--connections",
        type=int,
        default=64,
        help="PostgreSQL connections the two server processes may hold in all (max 100)",
    )
    parser.add_argument("--db-prefix", default="twoorl_bench_api")
    parser.add_argument("--wait-load", type=float, help="first wait for a 1-min load below this")
    parser.add_argument("--wait-max", type=float, default=2400, help="seconds to wait at most")
    parser.add_argument("--profile", type=Path, help="py-spy one worker per cell into this dir")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--report", type=Path, help="print the tables of an earlier --json file (and rewrite it)"
    )
    args = parser.parse_args()
    if args.report:
        report(args.report, args.json)
        return
    if args.quick:
        args.shards = args.shards or [1, 2]
        args.followees, args.posts_per_user, args.duration, args.warmup = 20, 3, 1, 0
    args.shards = args.shards or [1, 4, 8]
    args.endpoints = args.endpoints.split(",")
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    bench.DATABASE_PREFIX = args.db_prefix
    # load_layout's options: the reader and the people they follow, no one else.
    shape = argparse.Namespace(
        users=args.followees + 1,
        posts_per_user=args.posts_per_user,
        followees=[args.followees],
        quiet=args.quiet,
    )
    load_before = (
        wait_for_quiet(args.wait_load, args.wait_max, args.quiet) if args.wait_load else loadavg()
    )
    if not args.quiet:
        print(f"load average before: {load_before}", flush=True)
    cells: list[Cell] = []
    run = secrets.token_hex(3)
    started = time.time()
    with tempfile.TemporaryDirectory() as temp:
        for count in args.shards:
            prefix = f"twoorl-bench-api:{run}:{count}:"
            if not args.quiet:
                print(
                    f"{count} shard(s): one reader following {args.followees} people x "
                    f"{args.posts_per_user} posts",
                    flush=True,
                )
            layout = asyncio.run(bench.load_layout(count, shape))
            try:
                for strategy in args.strategies.split(","):
                    redis_prefix = prefix if strategy == "fan-out" else None
                    cells += measure_server(layout, strategy, redis_prefix, args, Path(temp))
            finally:
                bench.forget_redis(prefix)
                if not args.keep:
                    asyncio.run(bench.drop_databases(count))
    load_after = loadavg()
    print_table(cells, os.cpu_count() or 1)
    print(f"\nload average before {load_before}, after {load_after}")
    if args.json:
        write_json(
            args.json,
            {
                "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "wrk": wrk_version(),
                },
                "shape": {
                    "followees": args.followees,
                    "posts_per_followee": args.posts_per_user,
                    "timeline_entries": (args.followees + 1) * args.posts_per_user,
                    "server": "twoorl serve --workers 2",
                    "wrk": f"wrk -t1 -c{args.concurrency} -d{int(args.duration)}s --latency",
                    "rate_limit_api": RATE_LIMIT_API,
                    "db_pool_per_shard_per_process": {
                        str(n): max(1, min(10, args.connections // (2 * n))) for n in args.shards
                    },
                },
                "loadavg_before": load_before,
                "loadavg_after": load_after,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                "seconds": round(time.time() - started, 1),
            },
            cells,
        )


def write_json(path: Path, document: dict, cells: list[Cell]) -> None:
    cpus = document["machine"]["cpus"]
    document["cells"] = [asdict(c) | comparison(c, cpus) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def report(source: Path, out: Path | None) -> None:
    """The tables of an earlier run, from its JSON; with ``--json``, that JSON rewritten with
    the derived figures of this version (ratios, CPU ceiling)."""
    document = json.loads(source.read_text())
    names = set(Cell.__dataclass_fields__)
    cells = [Cell(**{k: v for k, v in c.items() if k in names}) for c in document["cells"]]
    print_table(cells, document["machine"]["cpus"])
    print(f"\nload average before {document['loadavg_before']}, after {document['loadavg_after']}")
    if out:
        write_json(out, document, cells)


if __name__ == "__main__":
    main()
