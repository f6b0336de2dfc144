"""A bounded mixed workload on the local cluster: 90% timeline reads, 10% writes (posts,
likes, follows), from many signed-in people at once, with ``wrk`` (``apt-get install wrk``).

It starts ``scripts/local-cluster`` (8 PostgreSQL shards, Redis, 2 ``twoorl serve``, 2
``twoorl worker``) under a name of its own, fills it with ``twoorl demo-data``, signs in
``--people`` demo accounts, runs one ``wrk`` per web process for ``--duration`` seconds, then
waits for the workers to finish every job the run queued. Prints requests/s, p50/p99, errors
and the job backlog; ``--json PATH`` writes them. The cluster is stopped and dropped after.

    uv run python benchmarks/load.py --json benchmarks/results/load.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "scripts" / "local-cluster"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
POST_RE = re.compile(r'data-post-id="(\d+)"')
TARGET_RPS = 800

# Each request picks a person and an action: the mix is in the thresholds (out of 100).
WRK_SCRIPT = """
local people = {PEOPLE}
local posts = {POSTS}
local names = {NAMES}
math.randomseed({SEED})

request = function()
  local person = people[math.random(#people)]
  local headers = {{["Cookie"] = person.cookie}}
  local roll = math.random(100)
  if roll <= 70 then
    return wrk.format("GET", "/", headers)
  elseif roll <= 80 then
    return wrk.format("GET", "/public", headers)
  elseif roll <= 90 then
    return wrk.format("GET", "/@" .. names[math.random(#names)], headers)
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  local form = "csrf_token=" .. person.csrf
  if roll <= 95 then
    return wrk.format("POST", "/posts", headers, form .. "&status=load+test+" .. math.random(1e9))
  elseif roll <= 98 then
    return wrk.format("POST", "/posts/" .. posts[math.random(#posts)] .. "/like", headers, form)
  end
  return wrk.format("POST", "/@" .. names[math.random(#names)] .. "/follow", headers, form)
end

done = function(summary, latency, requests)
  io.write(string.format("TWOORL p50=%d p99=%d requests=%d errors=%d status=%d\\n",
    latency:percentile(50), latency:percentile(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


@dataclass
class Result:
    duration: float
    connections: int
    requests: int
    requests_per_second: float
    p50_ms: float  # the slower of the two web processes'
    p99_ms: float
    errors: int
    jobs_left_after_run: int
    seconds_to_drain: float
    jobs_failed: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(CLUSTER), *command], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"local-cluster {' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def twoorl_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    for line in (state_dir / "twoorl.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key.removeprefix("export ").strip()] = value.strip().strip("'\"")
    return env


def twoorl(args: list[str], env: dict[str, str]) -> str:
    command = [sys.executable, "-c", "from twoorl.cli import main; main()", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"twoorl {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def sign_in(base_url: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        token = CSRF_RE.search(client.get("/login").text).group(1)
        answer = client.post(
            "/login", data={"csrf_token": token, "login": username, "password": "twoorl-demo"}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"cannot sign in as {username}: {answer.status_code}")
        home = client.get("/").text
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return {"cookie": cookie, "csrf": CSRF_RE.search(home).group(1)}


def lua_table(values: list) -> str:
    return (
        "{"
        + ", ".join(json.dumps(v) if not isinstance(v, dict) else lua_record(v) for v in values)
        + "}"
    )


def lua_record(record: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in record.items()) + "}"


def pending_jobs(env: dict[str, str]) -> tuple[int, int]:
    """(pending, failed) over all shards, from ``twoorl jobs``."""
    last = twoorl(["jobs"], env).strip().splitlines()[-1].split()
    return int(last[1]), int(last[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--posts-per-user", type=int, default=20)
    parser.add_argument("--follows-per-user", type=int, default=50)
    parser.add_argument(
        "--people", type=int, default=20, help="signed-in people (the login limit is raised to fit)"
    )
    parser.add_argument("--connections", type=int, default=16, help="in all, over both ports")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        state = Path(temp) / "cluster"
        ports = [free_port(), free_port()]
        env = {
            **os.environ,
            "TWOORL_CLUSTER_NAME": f"twoorl_load_{os.getpid()}",
            "TWOORL_CLUSTER_DIR": str(state),
            "TWOORL_CLUSTER_WEB_PORTS": ",".join(map(str, ports)),
            "TWOORL_CLUSTER_REDIS_PORT": str(free_port()),
            # Every signed-in person of the run logs in from loopback, one address: the
            # login limit (10 a minute per address, shared through Redis) would stop at 10.
            "TWOORL_RATE_LIMIT_LOGIN": f"{4 * args.people}/minute",
        }
        print("starting the local cluster...", flush=True)
        cluster(["start"], env)
        try:
            result = run(args, state, ports)
        finally:
            cluster(["stop", "--drop"], env)
    print(
        f"\n| requests | req/s | p50 ms | p99 ms | errors | jobs left at end | drained in s |"
        f" failed jobs |\n|---|---|---|---|---|---|---|---|\n"
        f"| {result.requests} | {result.requests_per_second:.0f} | {result.p50_ms:.1f} | "
        f"{result.p99_ms:.1f} | {result.errors} | {result.jobs_left_after_run} | "
        f"{result.seconds_to_drain:.1f} | {result.jobs_failed} |"
    )
    met = result.errors == 0 and result.requests_per_second >= TARGET_RPS
    print(
        f"Target: 0 errors, >= {TARGET_RPS} requests/s, no backlog: {'met' if met else 'NOT met'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join(["benchmarks/load.py", *sys.argv[1:]]),
                    "result": asdict(result),
                    "target": {"requests_per_second": TARGET_RPS, "errors": 0},
                },
                indent=2,
            )
        )


def run(args: argparse.Namespace, state: Path, ports: list[int]) -> Result:
    env = twoorl_env(state)
    print(f"loading {args.users} people...", flush=True)
    twoorl(
        [
            "demo-data",
            "--users",
            str(args.users),
            "--posts-per-user",
            str(args.posts_per_user),
            "--follows-per-user",
            str(args.follows_per_user),
            "--seed",
            "1",
        ],
        env,
    )
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    people = [sign_in(urls[i % 2], f"demo{i + 1}") for i in range(args.people)]
    public = httpx.get(urls[0] + "/public", timeout=30).text
    posts = POST_RE.findall(public) or ["0"]
    names = [f"demo{i}" for i in random.Random(2).sample(range(1, args.users + 1), 200)]
    script = state / "mix.lua"
    script.write_text(
        WRK_SCRIPT.format(
            PEOPLE=lua_table(people), POSTS=lua_table(posts), NAMES=lua_table(names), SEED=42
        )
    )
    per_port = max(1, args.connections // len(urls))
    print(f"running {args.duration:g} s of mixed load on {len(urls)} web processes...", flush=True)
    runs = [
        subprocess.Popen(
            [
                "wrk",
                "-t1",
                f"-c{per_port}",
                f"-d{int(args.duration)}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    figures = []
    for process in runs:
        output = process.communicate()[0]
        found = re.search(r"TWOORL (.*)", output)
        if not found:
            raise RuntimeError(f"wrk printed no summary:\n{output}")
        figures.append({k: int(v) for k, v in (p.split("=") for p in found.group(1).split())})
    left, _failed = pending_jobs(env)
    started = time.monotonic()
    pending, failed = left, 0
    while time.monotonic() - started < 300:
        pending, failed = pending_jobs(env)
        if pending == 0:
            break
        time.sleep(1)
    requests = sum(f["requests"] for f in figures)
    return Result(
        duration=args.duration,
        connections=per_port * len(urls),
        requests=requests,
        requests_per_second=requests / args.duration,
        p50_ms=max(f["p50"] for f in figures) / 1000,
        p99_ms=max(f["p99"] for f in figures) / 1000,
        errors=sum(f["errors"] + f["status"] for f in figures),
        jobs_left_after_run=left,
        seconds_to_drain=time.monotonic() - started if pending == 0 else float("inf"),
        jobs_failed=failed,
    )


if __name__ == "__main__":
    main()
