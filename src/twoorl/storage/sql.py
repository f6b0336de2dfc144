"""Small dialect-portable SQL helpers (PostgreSQL and SQLite both speak ON CONFLICT).

The statements are built once per dialect, table and set of columns, with bound parameters
for the values: building an insert construct and its cache key costs more Python than
running it on the hot write paths (a post writes half a dozen rows)."""

from __future__ import annotations

import functools
import hashlib

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.caching.changes import record_change

DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


@functools.cache
def _insert_ignoring(dialect: str, table: Table, columns: tuple[str, ...]):
    statement = DIALECTS[dialect].insert(table).values({c: bindparam(c) for c in columns})
    return statement.on_conflict_do_nothing()


async def insert_if_absent(conn: AsyncConnection, table: Table, **values: object) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``: whether it inserted."""
    statement = _insert_ignoring(dialect_name(conn), table, tuple(values))
    result = await conn.execute(statement, values)
    return result.rowcount == 1


@functools.cache
def _counter_upsert(dialect: str, table: Table, key_column: str, column: str):
    statement = (
        DIALECTS[dialect]
        .insert(table)
        .values({key_column: bindparam("key"), column: bindparam("initial")})
    )
    return statement.on_conflict_do_update(
        index_elements=[key_column], set_={column: table.c[column] + bindparam("delta")}
    )


async def add_to_counter(
    conn: AsyncConnection, table: Table, key_column: str, key: int, column: str, delta: int
) -> None:
    """Upsert ``column += delta`` on the row ``key``, creating it at zero if missing."""
    statement = _counter_upsert(dialect_name(conn), table, key_column, column)
    await conn.execute(statement, {"key": key, "initial": max(delta, 0), "delta": delta})
    record_change(conn, table.name, key)  # cached counters of ``key`` are stale now


def dialect_name(conn: AsyncConnection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


async def lock_for_transaction(conn: AsyncConnection, *key: object) -> None:
    """Serialise transactions that touch the same logical thing (say, one follow edge) until
    commit. PostgreSQL: a transaction-level advisory lock. SQLite: the write transaction
    (BEGIN IMMEDIATE) already holds the whole database."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    await conn.execute(ADVISORY_LOCK, {"key": int.from_bytes(digest, "big", signed=True)})
