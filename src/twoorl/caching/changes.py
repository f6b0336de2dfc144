"""The change feed: how a write in one process reaches every other process's caches.

A write records what it changed on its transaction (:func:`record_change`); after the commit the
shard hands the list to the feed, which applies it to this process's caches at once and
publishes it. Every process reads what others published at the start of each request and
each job (:meth:`ChangeFeed.catch_up`, one round trip), so a delete, a block or a revoked
token shows on the very next request anywhere.

Two feeds: a Redis stream when Redis is configured (clusters), else a table on the directory
shard (the embedded default, and several processes on one SQLite). Either way the databases
stay the truth: a process that loses track (an outage, a long pause, a flood of changes)
clears its caches and reads the databases again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.caching.tables import cache_changes
from twoorl.storage.types import utcnow

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from twoorl.storage.shards import Shard

log = logging.getLogger(__name__)

Change = tuple[str, str]  # (kind, key), e.g. ("post", "1234")
# Where a transaction keeps the changes it will publish once committed.
PENDING = "twoorl.cache_changes"
# More changes than this since the last read and the reader clears its caches instead.
READ_LIMIT = 2000
# How long a published change stays readable; a process that has not read the feed for
# longer than LOST_TRACK_AFTER may have missed some and starts over.
KEEP_FOR = timedelta(minutes=10)
LOST_TRACK_AFTER = 120.0
# On PostgreSQL a lower sequence number can commit after a higher one: a skipped number is
# looked for again until it appears or this many seconds pass (a rolled-back insert).
GAP_PATIENCE = 10.0


def record_change(conn: AsyncConnection, kind: str, key: object) -> None:
    """Note, inside a write transaction, that the thing ``kind``/``key`` changes with it."""
    conn.info.setdefault(PENDING, []).append((kind, str(key)))


class ChangeFeed(Protocol):
    async def publish(self, changes: Sequence[Change]) -> None: ...

    async def catch_up(self) -> list[Change] | None:
        """What others changed since the last call; None when track was lost (the caller
        clears its caches)."""
        ...

    async def close(self) -> None: ...


class SqlChangeFeed:
    """The feed as rows of ``cache_changes`` on the directory shard."""

    def __init__(self, directory: Shard) -> None:
        self.directory = directory
        self._last: int | None = None
        self._gaps: dict[int, float] = {}  # missing seq -> when first missed
        self._published = 0

    async def publish(self, changes: Sequence[Change]) -> None:
        now = utcnow()
        rows = [{"kind": kind, "key": key[:128], "at": now} for kind, key in changes]
        async with self.directory.write() as conn:
            await conn.execute(insert(cache_changes), rows)
            self._published += 1
            if self._published % 500 == 1:
                await conn.execute(delete(cache_changes).where(cache_changes.c.at < now - KEEP_FOR))

    async def catch_up(self) -> list[Change] | None:
        seq = cache_changes.c.seq
        async with self.directory.read() as conn:
            if self._last is None:
                self._last = (await conn.execute(select(func.coalesce(func.max(seq), 0)))).scalar()
                return []
            wanted = seq > self._last
            if self._gaps:
                wanted = or_(wanted, seq.in_(list(self._gaps)))
            statement = (
                select(seq, cache_changes.c.kind, cache_changes.c.key)
                .where(wanted)
                .order_by(seq)
                .limit(READ_LIMIT)
            )
            rows = (await conn.execute(statement)).all()
        if len(rows) == READ_LIMIT:
            self._last, self._gaps = rows[-1].seq, {}
            return None
        now = time.monotonic()
        for row in rows:
            if self._gaps.pop(row.seq, None) is not None:
                continue
            if row.seq > self._last + 1 and row.seq - self._last <= READ_LIMIT:
                self._gaps.update(dict.fromkeys(range(self._last + 1, row.seq), now))
            self._last = max(self._last, row.seq)
        self._gaps = {s: t for s, t in self._gaps.items() if now - t < GAP_PATIENCE}
        return [(row.kind, row.key) for row in rows]

    async def close(self) -> None:
        return None


class RedisChangeFeed:
    """The feed as a Redis stream: one entry per committed transaction, trimmed to a length."""

    MAX_LENGTH = 100_000

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key
        self._last: str | None = None

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "") -> RedisChangeFeed:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), prefix + "cache-changes")

    async def publish(self, changes: Sequence[Change]) -> None:
        entry: Any = {"c": json.dumps(changes)}
        await self.redis.xadd(self.key, entry, maxlen=self.MAX_LENGTH, approximate=True)

    async def catch_up(self) -> list[Change] | None:
        if self._last is None:
            newest = await self.redis.xrevrange(self.key, count=1)
            self._last = newest[0][0].decode() if newest else "0-0"
            return []
        answer = await self.redis.xread({self.key: self._last}, count=READ_LIMIT)
        entries = answer[0][1] if answer else []
        if entries:
            self._last = entries[-1][0].decode()
        if len(entries) == READ_LIMIT:
            return None
        return [(kind, key) for _id, fields in entries for kind, key in json.loads(fields[b"c"])]

    async def close(self) -> None:
        await self.redis.aclose()
