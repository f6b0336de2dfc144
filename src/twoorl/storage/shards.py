"""Physical shards and the router from ids to shards.

Content is spread over ``LOGICAL_SHARDS`` logical shards, mapped onto the physical databases
in contiguous ranges. Growing the cluster moves whole logical shards to a new database; no
user is ever rehashed, because the logical shard is written into every id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from twoorl.caching.changes import (
    LOST_TRACK_AFTER,
    PENDING,
    Change,
    ChangeFeed,
    SqlChangeFeed,
)
from twoorl.caching.entities import Caches
from twoorl.ids import LOGICAL_SHARDS, SEQUENCE_BITS, logical_shard_of

log = logging.getLogger(__name__)

T = TypeVar("T")


def physical_index_of_logical(logical_shard: int, physical_count: int) -> int:
    return logical_shard * physical_count // LOGICAL_SHARDS


# Identity equality: a shard is one object per ShardSet, and hashing it (it keys every
# per-shard grouping) must be cheap.
@dataclass(frozen=True, eq=False)
class Shard:
    index: int
    url: str
    engine: AsyncEngine
    # What reads connect with. On PostgreSQL, autocommit: under READ COMMITTED each statement
    # takes its own snapshot anyway, so wrapping reads in a transaction only added a BEGIN and
    # a ROLLBACK round trip to every one (about a tenth of an API request's CPU, measured in
    # benchmarks/README.md, "api"). SQLite keeps its BEGIN: one WAL snapshot per read.
    reader: AsyncEngine = field(init=False, repr=False)
    # Called with what a committed write changed (``caching.changes.record_change``); set by the
    # ShardSet, which applies it to the caches and publishes it.
    after_commit: Callable[[list[Change]], Awaitable[None]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        reader = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        object.__setattr__(self, "reader", reader)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE),
        so concurrent writers queue on busy_timeout instead of failing mid-transaction."""
        async with self.engine.connect() as conn:
            # ``info`` lives with the pooled connection: drop what a rolled-back use left.
            conn.info.pop(PENDING, None)
            if self.is_sqlite:
                await conn.execution_options(twoorl_immediate=True)
            async with conn.begin():
                yield conn
            changes = conn.info.pop(PENDING, None)
        # Published once the connection is back in the pool: publishing may need one too.
        if changes and self.after_commit is not None:
            await self.after_commit(changes)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.connect() as conn:
            yield conn


class ShardTimeout(Exception):
    """A shard did not answer within the set time; the page fails instead of hanging."""

    def __init__(self, shard: Shard, seconds: float) -> None:
        super().__init__(f"shard {shard.index} did not answer within {seconds:g} s")
        self.shard = shard
        self.seconds = seconds


class ShardSet:
    """All physical shards of a deployment. The first one also holds the account directory."""

    def __init__(
        self, urls: Sequence[str], *, timeout: float | None = None, pool_size: int = 10
    ) -> None:
        if not urls:
            raise ValueError("at least one shard is needed")
        self.shards = [
            Shard(i, url, create_shard_engine(url, pool_size)) for i, url in enumerate(urls)
        ]
        # The physical shard of each logical shard, looked up by index on hot paths.
        self._by_logical = [
            self.shards[physical_index_of_logical(i, len(urls))] for i in range(LOGICAL_SHARDS)
        ]
        # Bounds each shard's part of a ``gather`` (timeline reads); None waits forever.
        self.timeout = timeout
        # This process's entity caches, kept right by the change feed (``caching``).
        self.caches = Caches()
        self.feed: ChangeFeed = SqlChangeFeed(self.directory)
        # Run after each commit that changed something, before the caches hear of it: shared
        # caches other than ours (Redis copies of posts) drop what changed here first.
        self.commit_hooks: list[Callable[[list[Change]], Awaitable[None]]] = []
        self._caught_up_at = 0.0
        for shard in self.shards:
            object.__setattr__(shard, "after_commit", self._after_commit)

    async def _after_commit(self, changes: list[Change]) -> None:
        for hook in self.commit_hooks:
            try:
                await hook(changes)
            except Exception:
                log.exception("a commit hook failed; its copies heal by expiry")
        self.caches.apply(changes)
        try:
            await self.feed.publish(changes)
        except Exception:
            # The write stands; other processes heal within the caches' time-to-live.
            log.exception("could not publish %d cache changes", len(changes))

    async def catch_up(self, max_age: float = 0.0) -> None:
        """Apply what other processes changed since the last call: one round trip to the
        feed, at the start of every request. If the feed cannot be read, the caches are
        switched off until it can (the databases answer, just slower). ``max_age``: skip
        if the feed was read that recently (open streams, per event)."""
        if max_age and time.monotonic() - self._caught_up_at < max_age:
            return
        try:
            changes = await self.feed.catch_up()
        except Exception:
            if self.caches.posts.enabled:
                log.warning("cache change feed unreadable; caches off", exc_info=True)
            self.caches.set_enabled(False)
            return
        now = time.monotonic()
        if changes is None or now - self._caught_up_at > LOST_TRACK_AFTER:
            self.caches.clear()  # too much changed, or too long unread: start over
        elif changes:
            self.caches.apply(changes)
        self._caught_up_at = now
        if not self.caches.posts.enabled:
            self.caches.set_enabled(True)

    def __len__(self) -> int:
        return len(self.shards)

    @property
    def directory(self) -> Shard:
        return self.shards[0]

    def for_id(self, snowflake: int) -> Shard:
        """The shard that owns the entity with this id (a user, or anything a user owns)."""
        return self.for_logical(logical_shard_of(snowflake))

    def for_logical(self, logical_shard: int) -> Shard:
        return self._by_logical[logical_shard]

    def group_by_shard(self, ids: Iterable[int]) -> dict[Shard, list[int]]:
        # Inlined logical_shard_of: this runs over every followee of a home timeline.
        groups: dict[Shard, list[int]] = defaultdict(list)
        by_logical, shift, mask = self._by_logical, SEQUENCE_BITS, LOGICAL_SHARDS - 1
        for snowflake in ids:
            groups[by_logical[(snowflake >> shift) & mask]].append(snowflake)
        return dict(groups)

    def logical_shards_of(self, shard: Shard) -> range:
        """The logical shards that live on ``shard`` (a contiguous range)."""
        n = len(self.shards)
        first = next(
            i for i in range(LOGICAL_SHARDS) if physical_index_of_logical(i, n) == shard.index
        )
        last = first
        while last + 1 < LOGICAL_SHARDS and physical_index_of_logical(last + 1, n) == shard.index:
            last += 1
        return range(first, last + 1)

    async def gather(
        self,
        work: Callable[[Shard, AsyncConnection], Awaitable[T]],
        shards: Iterable[Shard] | None = None,
    ) -> list[T]:
        """Run ``work`` on each shard concurrently, each on its own connection: the seed's pmap.
        A shard slower than ``self.timeout`` raises :class:`ShardTimeout`, so one stuck
        database cannot hold a page forever."""

        async def run(shard: Shard) -> T:
            try:
                async with asyncio.timeout(self.timeout):
                    async with shard.reader.connect() as conn:
                        return await work(shard, conn)
            except TimeoutError:
                raise ShardTimeout(shard, self.timeout or 0) from None

        targets = self.shards if shards is None else list(shards)
        return list(await asyncio.gather(*(run(s) for s in targets)))

    async def dispose(self) -> None:
        await self.feed.close()
        await asyncio.gather(*(s.engine.dispose() for s in self.shards))


def create_shard_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # A fixed pool: under load, requests queue for a connection instead of opening and
    # closing overflow connections (a connect costs far more than the query). No pre-ping:
    # it would add a round trip to every checkout; a connection that died is discarded
    # when it fails, and the next checkout gets a fresh one.
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_recycle=3600)


def _sqlite_begin(conn) -> None:
    immediate = conn.get_execution_options().get("twoorl_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets readers run during a write; busy_timeout makes writers queue instead of fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
