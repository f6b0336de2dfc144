"""Small dialect-portable SQL helpers (PostgreSQL and SQLite both speak ON CONFLICT)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.caching.changes import record_change


def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, **values: object):
    """``INSERT ... ON CONFLICT DO NOTHING``; the result's rowcount says whether it inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()


async def insert_if_absent(conn: AsyncConnection, table: Table, **values: object) -> bool:
    result = await conn.execute(insert_ignoring_conflicts(conn, table, **values))
    return result.rowcount == 1


async def add_to_counter(
    conn: AsyncConnection, table: Table, key_column: str, key: int, column: str, delta: int
) -> None:
    """Upsert ``column += delta`` on the row ``key``, creating it at zero if missing."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values({key_column: key, column: max(delta, 0)})
    statement = statement.on_conflict_do_update(
        index_elements=[key_column],
        set_={column: table.c[column] + delta},
    )
    await conn.execute(statement)
    record_change(conn, table.name, key)  # cached counters of ``key`` are stale now


async def lock_for_transaction(conn: AsyncConnection, *key: object) -> None:
    """Serialise transactions that touch the same logical thing (say, one follow edge) until
    commit. PostgreSQL: a transaction-level advisory lock. SQLite: the write transaction
    (BEGIN IMMEDIATE) already holds the whole database."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )
