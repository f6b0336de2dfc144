"""``scripts/local-cluster`` as a person runs it: eight PostgreSQL shard databases, its own
Redis, two web processes and two workers, then a clean stop that leaves nothing behind.

Real processes on free ports, databases named after this test run (so runs never collide),
and a state dir in tmp_path.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import PG_ADMIN_DSN, run_blocking, skip_or_fail

pytestmark = pytest.mark.postgres

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local-cluster"
SHARDS = 8
START_TIMEOUT = 240


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open at once while they are picked)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


async def _databases_like(prefix: str) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
        return {row["datname"] for row in rows}
    finally:
        await conn.close()


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its parent to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _pids(state: Path) -> dict[str, int]:
    return {path.stem: int(path.read_text().strip()) for path in state.glob("*.pid")}


def _logs(state: Path) -> str:
    return "\n".join(
        f"---- {path.name} ----\n" + "\n".join(path.read_text(errors="replace").splitlines()[-20:])
        for path in sorted(state.glob("*.log"))
    )


def test_start_status_stop_drop(tmp_path: Path) -> None:
    try:
        run_blocking(_databases_like, "postgres")
    except (OSError, ConnectionError, TimeoutError) as error:
        skip_or_fail(f"PostgreSQL is not reachable: {error}")
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")

    name = f"twoorl_lc_{os.getpid()}"
    databases = {f"{name}_{i}" for i in range(SHARDS)}
    state = tmp_path / "cluster"
    redis_port, *web_ports = _free_ports(3)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    env = {
        **clean,
        # Run the processes from the environment this test runs in.
        "UV_PROJECT_ENVIRONMENT": sys.prefix,
        "TWOORL_CLUSTER_NAME": name,
        "TWOORL_CLUSTER_SHARDS": str(SHARDS),
        "TWOORL_CLUSTER_DIR": str(state),
        "TWOORL_CLUSTER_PG": PG_ADMIN_DSN,
        "TWOORL_CLUSTER_REDIS_PORT": str(redis_port),
        "TWOORL_CLUSTER_WEB_PORTS": ",".join(map(str, web_ports)),
    }

    def cluster(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout
        )

    def start(roles: list[str]) -> dict[str, int]:
        result = cluster("start", timeout=START_TIMEOUT)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{_logs(state)}"
        for port in env["TWOORL_CLUSTER_WEB_PORTS"].split(","):
            assert f"http://127.0.0.1:{port}/" in result.stdout
        assert str(state / "twoorl.env") in result.stdout
        assert "stop" in result.stdout
        pids = _pids(state)
        assert sorted(pids) == roles
        for role, pid in pids.items():
            assert str(pid) in result.stdout
            assert _running(pid), f"{role} is not running\n{_logs(state)}"
        return pids

    def assert_stopped(pids: dict[str, int]) -> None:
        for role, pid in pids.items():
            assert not _running(pid), f"{role} (pid {pid}) outlived stop"
        assert not list(state.glob("*.pid"))

    seen: dict[str, int] = {}
    try:
        pids = start(["redis", "web-1", "web-2", "worker-1", "worker-2"])
        seen.update(pids)
        # Each recorded PID is the server itself, not a shell that started it.
        assert "redis-server" in _cmdline(pids["redis"])
        assert f"{redis_port}" in _cmdline(pids["redis"])
        for n, port in enumerate(web_ports, start=1):
            assert re.search(rf"twoorl serve .*--port {port}\b", _cmdline(pids[f"web-{n}"]))
        for n in (1, 2):
            assert "twoorl worker" in _cmdline(pids[f"worker-{n}"])

        for port in web_ports:
            response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert response.status_code == 200, response.text

        status = cluster("status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "5 of 5 processes alive" in status.stdout
        for role, pid in pids.items():
            assert re.search(rf"{role}\s+pid {pid}\s+alive", status.stdout), status.stdout

        again = cluster("start")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout
        assert _pids(state) == pids

        settings = dict(
            line.split("=", 1)
            for line in (state / "twoorl.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        secret = (state / "secret_key").read_text().strip()
        assert settings["TWOORL_SECRET_KEY"] == secret and len(secret) >= 32
        assert settings["TWOORL_INLINE_WORKERS"] == "false"
        assert settings["TWOORL_REDIS_URL"] == f"redis://127.0.0.1:{redis_port}/0"
        assert [url.rsplit("/", 1)[1] for url in settings["TWOORL_SHARDS"].split(",")] == [
            f"{name}_{i}" for i in range(SHARDS)
        ]
        assert run_blocking(_databases_like, name + "_") == databases

        # A plain stop keeps the databases and the secret key; a restart reuses both.
        stopped = cluster("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert_stopped(pids)
        assert cluster("status").returncode == 3
        assert run_blocking(_databases_like, name + "_") == databases

        # (A smaller restart, to save time: one web process on the second port, no worker.)
        env["TWOORL_CLUSTER_WEB_PORTS"] = str(web_ports[1])
        env["TWOORL_CLUSTER_WORKERS"] = "0"
        pids = start(["redis", "web-1"])
        seen.update({f"{role} (restarted)": pid for role, pid in pids.items()})
        assert (state / "secret_key").read_text().strip() == secret
        assert f"TWOORL_SECRET_KEY={secret}\n" in (state / "twoorl.env").read_text()
        assert httpx.get(f"http://127.0.0.1:{web_ports[1]}/", timeout=10).status_code == 200

        dropped = cluster("stop", "--drop")
        assert dropped.returncode == 0, dropped.stdout + dropped.stderr
        assert_stopped(pids)
        assert run_blocking(_databases_like, name + "_") == set()
    finally:
        cluster("stop", "--drop")
        for pid in seen.values():  # only if stop failed: nothing of ours may outlive the test
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
