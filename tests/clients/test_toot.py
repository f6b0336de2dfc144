"""toot, the Mastodon command-line client, against a live ``twoorl serve``: log in, who am I,
post, read the home timeline, follow, notifications. Each command is a real ``toot`` process
with a fresh configuration directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clients_support import PASSWORD, eventually, register

from live_server import LiveServer, attach_server_log, twoorl_serve

TOOT = Path(sys.executable).with_name("toot")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with twoorl_serve(tmp_path_factory.mktemp("toot")) as live:
        yield live


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    attach_server_log(item, report)
    return report


class Toot:
    """One person's toot: its own XDG config and cache, so logins never mix."""

    def __init__(self, home: Path) -> None:
        self.env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "NO_PROXY": "127.0.0.1,localhost",
            "COLUMNS": "120",
        }
        self.env.pop("TOOT_TESTING", None)

    def __call__(self, *arguments: str) -> str:
        done = subprocess.run(
            [str(TOOT), "--no-color", *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert done.returncode == 0, f"toot {' '.join(arguments)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def people(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Toot]:
    logged_in = {}
    for name in ("tess", "tom"):
        register(server.base_url, name).close()
        toot = Toot(tmp_path_factory.mktemp(f"toot-{name}"))
        out = toot("login_cli", "-i", server.base_url, "-e", f"{name}@example.org", "-p", PASSWORD)
        assert "Successfully logged in" in out, out
        logged_in[name] = toot
    return logged_in


def test_login_stored_a_token_not_a_password(people: dict[str, Toot]) -> None:
    config = Path(people["tess"].env["XDG_CONFIG_HOME"]) / "toot" / "config.json"
    stored = json.loads(config.read_text())
    assert list(stored["users"]) == [stored["active_user"]]
    assert stored["active_user"].startswith("tess@127.0.0.1:")
    assert PASSWORD not in config.read_text()


def test_whoami(people: dict[str, Toot]) -> None:
    out = people["tess"]("whoami")
    assert "@tess" in out
    assert json.loads(people["tess"]("whoami", "--json"))["username"] == "tess"


def test_post_follow_timeline_and_notifications(people: dict[str, Toot]) -> None:
    tess, tom = people["tess"], people["tom"]
    assert "Toot posted" in tess("post", "Posted with toot, hello #cli")
    tom("follow", "tess")

    timeline = tom("timelines", "home", "--no-pager", "--no-clear")
    assert "Posted with toot, hello" in timeline
    assert "@tess" in timeline
    statuses = json.loads(tom("timelines", "home", "--no-pager", "--no-clear", "--json"))
    assert [s["account"]["acct"] for s in statuses] == ["tess"]

    def followed() -> str:
        out = tess("notifications")
        return out if "tom" in out else ""

    assert eventually(followed), tess("notifications")
    notes = json.loads(tess("notifications", "--json"))
    assert [n["type"] for n in notes] == ["follow"]
    assert notes[0]["account"]["acct"] == "tom"
