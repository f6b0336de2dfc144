"""``twoorl admin create`` and ``twoorl admin grant``: the operator's way to the first admin,
with the password never on the command line, and every grant in the audit log."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]


def twoorl(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "TWOORL_DATA_DIR": str(tmp_path / "data"),
        "TWOORL_PASSWORD_HASH_PROFILE": "cheapest",
    }
    return subprocess.run(
        [*TWOORL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def rows(tmp_path: Path, query: str) -> list[tuple]:
    (database,) = (tmp_path / "data").glob("*.db")
    with sqlite3.connect(database) as conn:
        return conn.execute(query).fetchall()


def test_create_an_admin_from_a_password_file_then_grant_roles(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("a long admin password\n")
    made = twoorl(
        tmp_path,
        "admin",
        "create",
        "--username",
        "boss",
        "--email",
        "boss@example.org",
        "--password-file",
        str(secret),
    )
    assert made.returncode == 0, made.stderr
    assert "Created admin @boss." in made.stdout
    assert "a long admin password" not in made.stdout + made.stderr

    granted = twoorl(tmp_path, "admin", "grant", "@boss", "moderator")
    assert granted.returncode == 0, granted.stderr
    assert rows(tmp_path, "SELECT username, role FROM accounts") == [("boss", "moderator")]
    assert rows(tmp_path, "SELECT action, actor_id FROM audit_log ORDER BY id") == [
        ("grant_admin", None),
        ("grant_moderator", None),
    ]


def test_the_password_is_asked_for_twice_when_no_file_is_given(tmp_path: Path) -> None:
    made = twoorl(
        tmp_path,
        "admin",
        "create",
        "--username",
        "root",
        "--email",
        "root@example.org",
        stdin="first try password\nfirst try password\n",
    )
    assert made.returncode == 0, made.stderr
    assert rows(tmp_path, "SELECT role FROM accounts") == [("admin",)]


def test_bad_input_is_refused_with_one_line(tmp_path: Path) -> None:
    short = tmp_path / "password"
    short.write_text("short\n")
    weak = twoorl(
        tmp_path,
        "admin",
        "create",
        "--username",
        "boss",
        "--email",
        "boss@example.org",
        "--password-file",
        str(short),
    )
    assert weak.returncode == 1
    assert weak.stderr.startswith("twoorl: ")
    unknown_role = twoorl(tmp_path, "admin", "grant", "boss", "king")
    assert unknown_role.returncode == 2
    assert "user, moderator or admin" in unknown_role.stderr
    nobody = twoorl(tmp_path, "admin", "grant", "nobody", "admin")
    assert nobody.returncode == 1
    assert "nobody is called @nobody" in nobody.stderr
