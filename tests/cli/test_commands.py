"""The ``twoorl`` command as a newcomer runs it: real processes, real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]


def run_twoorl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    return subprocess.run(
        [*TWOORL, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_migrate_creates_every_shard(tmp_path: Path) -> None:
    shards = ",".join(f"sqlite+aiosqlite:///{tmp_path}/s{i}.db" for i in range(2))
    result = run_twoorl("migrate", env={"TWOORL_DATA_DIR": str(tmp_path), "TWOORL_SHARDS": shards})
    assert result.returncode == 0, result.stderr
    assert "Migrated 2 shard(s)." in result.stdout
    for i in range(2):
        with sqlite3.connect(tmp_path / f"s{i}.db") as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"accounts", "posts", "following", "followers", "jobs"} <= tables
    assert (tmp_path / "secret_key").read_text().strip()


def test_default_shard_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    result = run_twoorl("migrate", env={"TWOORL_DATA_DIR": str(tmp_path / "d")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / "s0.db").exists()


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    env = {"TWOORL_DATA_DIR": str(tmp_path)}
    assert run_twoorl("migrate", env=env).returncode == 0
    second = run_twoorl("migrate", env=env)
    assert second.returncode == 0, second.stderr


def test_bad_setting_stops_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    for variable, value in [
        ("TWOORL_MAX_POST_LENGTH", "zero"),
        ("TWOORL_MAX_POST_LENGTH", "0"),
        ("TWOORL_SHARDS", "mysql://x/y"),
        ("TWOORL_SECRET_KEY", "short"),
    ]:
        result = run_twoorl("migrate", env={"TWOORL_DATA_DIR": str(tmp_path), variable: value})
        assert result.returncode == 2, (variable, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert variable in lines[0]
        assert "Traceback" not in result.stderr
