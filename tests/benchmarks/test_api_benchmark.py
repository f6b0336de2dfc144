"""benchmarks/api.py runs end to end on a tiny shape: a real ``twoorl serve``, a token from
the real OAuth endpoints, wrk against the API timelines and the front page, fan-in and fan-out
(figures are not asserted: they belong to the machine, not to the code)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from conftest import skip_or_fail

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "api.py"
PG_ADMIN = os.environ.get("TWOORL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = pytest.mark.postgres


def postgres_answers() -> bool:
    async def connect() -> None:
        await (await asyncpg.connect(PG_ADMIN, timeout=5)).close()

    try:
        asyncio.run(connect())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def test_quick_run_measures_every_endpoint_without_errors(tmp_path: Path, redis_url: str) -> None:
    if shutil.which("wrk") is None:
        skip_or_fail("wrk is not installed (apt-get install wrk)")
    if not postgres_answers():
        skip_or_fail(f"PostgreSQL is not reachable at {PG_ADMIN}")
    out = tmp_path / "api.json"
    # Databases of this run only: a benchmark running beside the tests keeps its own.
    prefix = f"twoorl_bench_apitest_{os.getpid()}"
    command = [sys.executable, str(SCRIPT), "--quick", "--shards", "2", "--quiet"]
    result = subprocess.run(
        [*command, "--json", str(out), "--db-prefix", prefix],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| endpoint | strategy | shards | req/s |" in result.stdout
    assert "Takahē" in result.stdout

    report = json.loads(out.read_text())
    cells = report["cells"]
    assert {(c["endpoint"], c["strategy"]) for c in cells} == {
        (endpoint, strategy)
        for endpoint in ("home", "public", "front", "page")
        for strategy in ("fan-in", "fan-out")
    }
    for cell in cells:
        assert cell["shards"] == 2
        assert cell["requests"] > 0, cell
        assert cell["errors"] == 0, cell
        assert cell["checked"].startswith("200"), cell
        assert cell["endpoint"] == "page" or cell["takahe"]["per_second"] > 0
        assert cell["cpu_ms_per_request"]["twoorl"] > 0, cell
    warm = next(c for c in cells if c["endpoint"] == "home" and c["strategy"] == "fan-out")
    assert "cached timeline warm" in warm["checked"]
    assert report["shape"]["rate_limit_api"] == "1000000/minute"
    assert len(report["loadavg_before"]) == 3
