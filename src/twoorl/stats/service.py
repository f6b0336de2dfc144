"""Keeping and reading the statistics aggregates (see ``tables.py`` for what they count).

The ``count_*`` functions take the connection of the transaction that writes the counted row,
so the aggregate commits or rolls back with it: a crash, a retried request or a rolled-back
insert can never leave a figure that disagrees with the rows. The stats page reads only these
aggregates (a few rows per day and shard), never the counted tables.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.ids import logical_shard_of, timestamp_ms_of
from twoorl.stats.tables import daily_posters, daily_stats
from twoorl.storage.shards import Shard, ShardSet
from twoorl.storage.sql import DIALECTS, dialect_name

REGISTRATIONS, POSTS, POSTERS, FOLLOWS = "registrations", "posts", "posters", "follows"
DAILY_METRICS = (REGISTRATIONS, POSTS, POSTERS)
HISTORY_DAYS = 30


def day_of_id(snowflake: int) -> date:
    """The UTC day a snowflake id was minted on (a post's day)."""
    return datetime.fromtimestamp(timestamp_ms_of(snowflake) / 1000, tz=UTC).date()


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@functools.cache
def _bump_statement(dialect: str):
    statement = (
        DIALECTS[dialect]
        .insert(daily_stats)
        .values(
            day=bindparam("day"),
            metric=bindparam("metric"),
            logical_shard=bindparam("logical_shard"),
            value=bindparam("delta"),
        )
    )
    return statement.on_conflict_do_update(
        index_elements=[daily_stats.c.day, daily_stats.c.metric, daily_stats.c.logical_shard],
        set_={"value": daily_stats.c.value + bindparam("delta")},
    )


@functools.cache
def _poster_statement(dialect: str):
    return (
        DIALECTS[dialect]
        .insert(daily_posters)
        .values(day=bindparam("day"), account_id=bindparam("account_id"), posts=bindparam("delta"))
        .on_conflict_do_update(
            index_elements=[daily_posters.c.day, daily_posters.c.account_id],
            set_={"posts": daily_posters.c.posts + bindparam("delta")},
        )
        .returning(daily_posters.c.posts)
    )


async def bump(conn: AsyncConnection, day: date, metric: str, owner_id: int, delta: int) -> None:
    """``value += delta`` for (day, metric) in the logical shard of ``owner_id`` (the id that
    routes the counted row), creating the row if it is the first."""
    values = {
        "day": day,
        "metric": metric,
        "logical_shard": logical_shard_of(owner_id),
        "delta": delta,
    }
    await conn.execute(_bump_statement(dialect_name(conn)), values)


async def count_registration(conn: AsyncConnection, account_id: int, created_at: datetime) -> None:
    """In the transaction that inserts the account (on the directory)."""
    await bump(conn, day_of(created_at), REGISTRATIONS, account_id, 1)


async def count_post(conn: AsyncConnection, post_id: int, author_id: int, delta: int) -> None:
    """In the transaction that inserts (``delta=1``) or deletes (``-1``) a post, on the
    author's shard. Reposts are not posts here: do not call this for them."""
    day = day_of_id(post_id)
    await bump(conn, day, POSTS, author_id, delta)
    values = {"day": day, "account_id": author_id, "delta": delta}
    after = (await conn.execute(_poster_statement(dialect_name(conn)), values)).scalar_one()
    before = after - delta
    # The upsert's row lock orders this against the same person's other posts and deletes of
    # that day, so each crossing of zero is counted once.
    if before <= 0 < after:
        await bump(conn, day, POSTERS, author_id, 1)
    elif after <= 0 < before:
        await bump(conn, day, POSTERS, author_id, -1)


async def count_follow(
    conn: AsyncConnection, follower_id: int, created_at: datetime, delta: int
) -> None:
    """In the transaction that inserts (``1``) or deletes (``-1``) an out-edge, on the
    follower's shard; ``created_at`` is the edge's, so an unfollow leaves its own day."""
    await bump(conn, day_of(created_at), FOLLOWS, follower_id, delta)


@dataclass(frozen=True)
class Figures:
    """What the stats page shows: totals, and per-day series for the last ``HISTORY_DAYS``
    days (oldest first, ending today)."""

    people: int
    posts: int
    follows: int
    days: list[date]
    series: dict[str, list[int]] = field(default_factory=dict)

    def last(self, count: int) -> tuple[list[date], dict[str, list[int]]]:
        return self.days[-count:], {k: v[-count:] for k, v in self.series.items()}


async def read_figures(shards: ShardSet, today: date) -> Figures:
    """Every shard's aggregates, read concurrently and summed."""
    first = today - timedelta(days=HISTORY_DAYS - 1)

    async def fetch(_shard: Shard, conn: AsyncConnection):
        totals = (
            await conn.execute(
                select(daily_stats.c.metric, func.sum(daily_stats.c.value)).group_by(
                    daily_stats.c.metric
                )
            )
        ).all()
        recent = (
            await conn.execute(
                select(daily_stats.c.day, daily_stats.c.metric, daily_stats.c.value).where(
                    daily_stats.c.day >= first, daily_stats.c.day <= today
                )
            )
        ).all()
        return totals, recent

    totals: dict[str, int] = {}
    days = [first + timedelta(days=i) for i in range(HISTORY_DAYS)]
    index = {day: i for i, day in enumerate(days)}
    series = {metric: [0] * HISTORY_DAYS for metric in DAILY_METRICS}
    for shard_totals, recent in await shards.gather(fetch):
        for metric, value in shard_totals:
            totals[metric] = totals.get(metric, 0) + int(value or 0)
        for day, metric, value in recent:
            if metric in series and day in index:
                series[metric][index[day]] += int(value)
    return Figures(
        people=totals.get(REGISTRATIONS, 0),
        posts=totals.get(POSTS, 0),
        follows=totals.get(FOLLOWS, 0),
        days=days,
        series=series,
    )


class FiguresCache:
    """The page's figures, kept ``ttl`` seconds per process: a busy stats page costs one
    round of shard queries a minute. A new UTC day starts afresh."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entry: tuple[float, date, Figures] | None = None
        self._lock = asyncio.Lock()

    async def get(self, today: date, load: Callable[[], Awaitable[Figures]]) -> Figures:
        async with self._lock:  # concurrent misses wait for one load instead of each loading
            entry = self._entry
            if entry and entry[1] == today and self._clock() < entry[0]:
                return entry[2]
            figures = await load()
            self._entry = (self._clock() + self.ttl, today, figures)
            return figures

    def clear(self) -> None:
        self._entry = None


# The same counting as migration 0006's backfill (kept apart: a migration is frozen in time).
_DAY_OF_POST = {
    "postgresql": "(to_timestamp(((id >> 22) + 1735689600000) / 1000.0) AT TIME ZONE 'UTC')::date",
    "sqlite": "date(((id >> 22) + 1735689600000) / 1000, 'unixepoch')",
}
_DAY_OF_TIMESTAMP = {"postgresql": "created_at::date", "sqlite": "date(created_at)"}


async def rebuild(conn: AsyncConnection) -> None:
    """Recount this shard's aggregates from its rows, in the caller's transaction: for bulk
    loaders (``twoorl demo-data``) that write rows without going through the services. Reads
    every counted row, so it is not for page views."""
    dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    post_day, timestamp_day = _DAY_OF_POST[dialect], _DAY_OF_TIMESTAMP[dialect]
    await conn.execute(daily_stats.delete())
    await conn.execute(daily_posters.delete())
    shard_of = "((%s >> 12) & 1023)"  # the logical shard bits of a snowflake id
    for statement in (
        f"INSERT INTO daily_stats (day, metric, logical_shard, value) "
        f"SELECT {timestamp_day}, '{REGISTRATIONS}', {shard_of % 'id'}, count(*) FROM accounts "
        f"GROUP BY {timestamp_day}, {shard_of % 'id'}",
        f"INSERT INTO daily_posters (day, account_id, posts) SELECT {post_day}, author_id, "
        f"count(*) FROM posts WHERE repost_of_id IS NULL GROUP BY {post_day}, author_id",
        f"INSERT INTO daily_stats (day, metric, logical_shard, value) "
        f"SELECT day, '{POSTS}', {shard_of % 'account_id'}, sum(posts) FROM daily_posters "
        f"GROUP BY day, {shard_of % 'account_id'}",
        f"INSERT INTO daily_stats (day, metric, logical_shard, value) "
        f"SELECT day, '{POSTERS}', {shard_of % 'account_id'}, count(*) FROM daily_posters "
        f"WHERE posts > 0 GROUP BY day, {shard_of % 'account_id'}",
        f"INSERT INTO daily_stats (day, metric, logical_shard, value) "
        f"SELECT {timestamp_day}, '{FOLLOWS}', {shard_of % 'follower_id'}, count(*) "
        f"FROM following GROUP BY {timestamp_day}, {shard_of % 'follower_id'}",
    ):
        await conn.execute(text(statement))
