"""Writes a ``LoadPlan``: one transaction per physical shard, all loaded concurrently and
committed only when every shard has loaded, so a failure while loading leaves nothing behind.
(Only a crash between the shards' commits could; the directory commits last, so then no
demo account exists and the same load can simply be run again.)

PostgreSQL gets COPY through asyncpg (the fastest way in), with the per-row ``author_heads``
triggers switched off for the transaction and the heads upserted once per author at the end.
SQLite gets large executemany batches; its triggers keep the heads as rows arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack

from sqlalchemy import ARRAY, BigInteger, DateTime, Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.accounts.tables import account_counters
from twoorl.caching.changes import record_change
from twoorl.demo.plan import COLUMNS, TABLE_ORDER, LoadPlan, ShardPlan
from twoorl.stats import service as stats
from twoorl.storage.shards import Shard
from twoorl.storage.types import UTCDateTime

COPY_BATCH = 50_000
SQLITE_BATCH = 20_000
COUNTER_BATCH = 5_000
ANALYZE_AFTER_ROWS = 50_000  # smaller loads leave statistics to autovacuum

Advance = Callable[[int], None]

# Same as migration 0003's backfill, limited to the loaded authors; GREATEST keeps a newer
# head written meanwhile (GREATEST ignores NULL, the head of an author with no posts left).
_PG_UPSERT_HEADS = text(
    """
    INSERT INTO author_heads (author_id, head_id)
    SELECT author_id, max(id) FROM posts WHERE author_id = ANY(:author_ids) GROUP BY author_id
    ON CONFLICT (author_id) DO UPDATE SET head_id = GREATEST(author_heads.head_id, EXCLUDED.head_id)
    """
).bindparams(bindparam("author_ids", type_=ARRAY(BigInteger)))


async def execute(plan: LoadPlan, advance: Advance) -> None:
    """Write everything in ``plan``; ``advance(n)`` is told as each batch of rows lands."""
    directory = plan.shards.directory
    # The directory's transaction is entered first so it is committed last: until it commits,
    # no demo account exists, whatever happened to the other shards' commits.
    ordered = sorted(plan.by_shard.items(), key=lambda item: item[0] is not directory)
    async with AsyncExitStack() as stack:
        connections = [await stack.enter_async_context(shard.write()) for shard, _ in ordered]
        # Rows by the million, written past the services: every process's caches start over.
        record_change(connections[0], "all", "")
        # A TaskGroup cancels the other shards' loads as soon as one fails; the exit stack
        # then rolls every transaction back.
        try:
            async with asyncio.TaskGroup() as group:
                for (shard, shard_plan), conn in zip(ordered, connections, strict=True):
                    group.create_task(_load_shard(shard, conn, shard_plan, advance))
        except ExceptionGroup as failures:
            # The first shard's error as itself, so callers can catch OSError and the like.
            raise failures.exceptions[0] from failures
    await _analyze([s for s, p in ordered if not s.is_sqlite and p.row_count >= ANALYZE_AFTER_ROWS])


async def _load_shard(shard: Shard, conn: AsyncConnection, plan: ShardPlan, advance: Advance):
    if shard.is_sqlite:
        writer = _sqlite_writer(conn)
    else:
        writer = await _postgres_writer(conn, triggers_off=bool(plan.head_authors))
    for target in TABLE_ORDER:
        rows = plan.rows.get(target)
        if rows:
            await writer(target, rows, advance)
    await _add_counters(conn, plan.counter_deltas, advance)
    if plan.head_authors and not shard.is_sqlite:
        authors = sorted(plan.head_authors)
        await conn.execute(_PG_UPSERT_HEADS, {"author_ids": authors})
    advance(len(plan.head_authors))
    # Bulk rows bypass the services that keep the /stats aggregates: recount them here.
    await stats.rebuild(conn)


async def _postgres_writer(conn: AsyncConnection, *, triggers_off: bool):
    # A statement through SQLAlchemy first: the asyncpg adapter opens its transaction lazily,
    # and COPY on the raw connection must run inside it.
    superuser = (await conn.execute(text("SELECT current_setting('is_superuser')"))).scalar()
    if triggers_off and superuser == "on":
        # Replica mode skips ordinary triggers until this transaction ends; the heads are
        # upserted per author afterwards. Without superuser the triggers simply run.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None and driver.is_in_transaction()

    async def write(target: Table, rows: Sequence[tuple], advance: Advance) -> None:
        columns = COLUMNS[target]
        for start in range(0, len(rows), COPY_BATCH):
            batch = rows[start : start + COPY_BATCH]
            await driver.copy_records_to_table(target.name, records=batch, columns=columns)
            advance(len(batch))

    return write


def _sqlite_writer(conn: AsyncConnection):
    dialect = conn.dialect

    async def write(target: Table, rows: Sequence[tuple], advance: Advance) -> None:
        columns = COLUMNS[target]
        quote = dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(target.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        convert = _sqlite_converters(target, dialect)
        for start in range(0, len(rows), SQLITE_BATCH):
            batch = rows[start : start + SQLITE_BATCH]
            if convert:
                batch = [
                    tuple(f(v) if f else v for f, v in zip(convert, row, strict=True))
                    for row in batch
                ]
            # Straight to sqlite3's executemany: Core's per-row parameter handling would cost
            # several times the insert itself.
            await conn.exec_driver_sql(statement, batch)
            advance(len(batch))

    return write


def _sqlite_converters(target: Table, dialect) -> list | None:
    """SQLAlchemy's own bind processors for each column (datetime to its text form, bool to
    0/1), or None when no column needs one. UTCDateTime columns get plain DateTime's: the
    rows already hold the naive UTC that UTCDateTime would have produced."""
    converters = []
    for name in COLUMNS[target]:
        column_type = target.c[name].type
        if isinstance(column_type, UTCDateTime):
            column_type = DateTime()
        converters.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    return converters if any(converters) else None


async def _add_counters(conn: AsyncConnection, deltas: dict[int, list[int]], advance: Advance):
    """``add_to_counter`` for many accounts at once: one upsert, executemany'd."""
    if not deltas:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(account_counters)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id"],
        set_={
            name: account_counters.c[name] + statement.excluded[name]
            for name in ("posts", "following", "followers")
        },
    )
    rows = [
        {"account_id": account_id, "posts": p, "following": out, "followers": into}
        for account_id, (p, out, into) in deltas.items()
    ]
    for start in range(0, len(rows), COUNTER_BATCH):
        batch = rows[start : start + COUNTER_BATCH]
        await conn.execute(statement, batch)
        advance(len(batch))


async def _analyze(shards: list[Shard]) -> None:
    """Fresh planner statistics, so timelines read right after a big load get good plans
    rather than waiting for autovacuum."""

    async def analyze(shard: Shard) -> None:
        async with shard.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in (*(t.name for t in TABLE_ORDER), "account_counters", "author_heads"):
                await conn.execute(text(f"ANALYZE {name}"))

    await asyncio.gather(*(analyze(s) for s in shards))
