"""Shared fixtures: real databases in three shapes, an app per test, people with their own
cookie jars.

The functional suite runs once per backend: one SQLite file, three SQLite shards, and three
PostgreSQL databases as shards. PostgreSQL tests skip when no server answers, except when
TWOORL_REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from twoorl.app import create_app
from twoorl.settings import Settings, load_settings
from twoorl.storage.metadata import load_all_tables
from twoorl.storage.migrate import migrate_shards
from twoorl.storage.shards import ShardSet

REQUIRE_SERVICES = os.environ.get("TWOORL_REQUIRE_SERVICES") == "1"
PG_ADMIN_DSN = os.environ.get(
    "TWOORL_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_HOST = os.environ.get("TWOORL_TEST_PG_HOST", "127.0.0.1:5432")
# Per-run names, so two test runs on one machine never truncate each other's tables.
PG_TEST_DATABASES = [f"twoorl_test_{os.getpid()}_{i}" for i in range(3)]
BACKENDS = ["sqlite", "sqlite3", "postgres3"]


def run_blocking(coroutine_function, *args):
    """Run async set-up code to completion from sync fixtures, even inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result()


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (TWOORL_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


async def _create_pg_databases() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in PG_TEST_DATABASES:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _migrate(urls: list[str]) -> None:
    shards = ShardSet(urls)
    try:
        await migrate_shards(shards)
    finally:
        await shards.dispose()


async def _drop_pg_databases() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        for name in PG_TEST_DATABASES:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_urls() -> Iterator[list[str]]:
    try:
        run_blocking(_create_pg_databases)
    except (OSError, ConnectionError, TimeoutError) as error:
        skip_or_fail(f"PostgreSQL is not reachable: {error}")
    urls = [f"postgresql+asyncpg://postgres@{PG_HOST}/{name}" for name in PG_TEST_DATABASES]
    run_blocking(_migrate, urls)
    yield urls
    run_blocking(_drop_pg_databases)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis that answers (tests keep to key prefixes of their own)."""
    import redis

    url = os.environ.get("TWOORL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis is not reachable at {url}: {error}")
    finally:
        client.close()
    return url


def forget_redis_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix``: tests keep their keys apart in the shared Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated SQLite files, copied for each test (faster than migrating every time)."""
    folder = tmp_path_factory.mktemp("sqlite-templates")
    run_blocking(_migrate, [f"sqlite+aiosqlite:///{folder}/s{i}.db" for i in range(3)])
    return folder


async def _truncate_all(urls: list[str]) -> None:
    tables = ", ".join(t.name for t in load_all_tables().sorted_tables)
    shards = ShardSet(urls)
    try:
        for shard in shards.shards:
            async with shard.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables}"))
    finally:
        await shards.dispose()


@pytest.fixture(params=BACKENDS)
def shard_urls(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    backend = request.param
    if backend == "postgres3":
        urls = request.getfixturevalue("postgres_urls")
        run_blocking(_truncate_all, urls)
        return urls
    templates: Path = request.getfixturevalue("sqlite_templates")
    count = 1 if backend == "sqlite" else 3
    urls = []
    for i in range(count):
        shutil.copy(templates / f"s{i}.db", tmp_path / f"s{i}.db")
        urls.append(f"sqlite+aiosqlite:///{tmp_path}/s{i}.db")
    return urls


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def settings(shard_urls: list[str], tmp_path: Path, settings_overrides) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "shards": ",".join(shard_urls),
        "password_hash_profile": "cheapest",
        "rate_limit_register": "10000/minute",
        "rate_limit_login": "10000/minute",
        "rate_limit_api": "100000/day",
        "inline_workers": False,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
    }
    values.update(settings_overrides)
    return load_settings(**values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator:
    application = create_app(settings, migrate=False)
    yield application
    await close_app(application)


async def close_app(application) -> None:
    """What the app's lifespan would close on shutdown (tests drive it without one)."""
    services = application.state.services
    await services.broker.stop()
    if services.timelines:
        await services.timelines.close()
    await services.close_rate_limiter()
    await services.shards.dispose()


@pytest.fixture
def shards(app) -> ShardSet:
    return app.state.services.shards


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Person:
    """A browser stand-in: its own cookie jar; every response is followed by draining the job
    queue, so tests see the state a person would see a moment later."""

    def __init__(self, app, username: str | None = None) -> None:
        self.app = app
        self.username = username
        self.password = "correct horse battery"

        async def drain(_response: httpx.Response) -> None:
            await app.state.services.worker.drain()

        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            event_hooks={"response": [drain]},
        )

    async def csrf(self, path: str | None = None) -> str:
        """The form token from ``path`` (default: the home page, or /login when signed out)."""
        for candidate in [path] if path else ["/", "/login"]:
            match = CSRF_RE.search((await self.client.get(candidate)).text)
            if match:
                return match.group(1)
        raise AssertionError(f"no CSRF token on {path or '/ or /login'}")

    async def submit(
        self, action: str, data: dict[str, str] | None = None, *, page: str | None = None
    ):
        return await self.client.post(
            action, data={"csrf_token": await self.csrf(page), **(data or {})}
        )

    async def register(self, username: str, email: str | None = None, password: str | None = None):
        self.username = username
        if password:
            self.password = password
        return await self.submit(
            "/register",
            {
                "username": username,
                "email": email or f"{username.lower()}@example.org",
                "password": self.password,
            },
            page="/register",
        )

    async def login(self, login: str | None = None, password: str | None = None):
        return await self.submit(
            "/login", {"login": login or self.username or "", "password": password or self.password}
        )

    async def post(self, status: str, in_reply_to_id: int | None = None):
        data = {"status": status}
        if in_reply_to_id:
            data["in_reply_to_id"] = str(in_reply_to_id)
        return await self.submit("/posts", data)

    async def follow(self, username: str):
        return await self.submit(f"/@{username}/follow")

    async def unfollow(self, username: str):
        return await self.submit(f"/@{username}/unfollow")

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def close(self) -> None:
        await self.client.aclose()


@pytest.fixture
async def people(app) -> AsyncIterator:
    """``await people("alice")`` gives a registered, signed-in Person."""
    made: list[Person] = []

    async def make(username: str | None = None) -> Person:
        person = Person(app)
        made.append(person)
        if username:
            response = await person.register(username)
            assert response.status_code == 303, response.text
        return person

    yield make
    for person in made:
        await person.close()


@pytest.fixture
async def api_users(app, people) -> AsyncIterator:
    """``await api_users("ana")`` gives an API client with a token of its own for a new
    account (``tests/api_support.ApiUser``); ``scopes=`` narrows what the token may do."""
    from api_support import DEFAULT_SCOPES, api_user

    made = []

    async def make(username: str, scopes: str = DEFAULT_SCOPES):
        user = await api_user(app, people, username, scopes)
        made.append(user)
        return user

    yield make
    for user in made:
        await user.close()


POST_ID_RE = re.compile(r'data-post-id="(\d+)"')


def post_ids(html: str) -> list[int]:
    return [int(i) for i in POST_ID_RE.findall(html)]


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("TWOORL_") and key not in {
            "TWOORL_REQUIRE_SERVICES",
            "TWOORL_TEST_PG_ADMIN",
            "TWOORL_TEST_PG_HOST",
        }:
            monkeypatch.delenv(key)
    yield
