"""The change feed's table, on the directory shard, for deployments without Redis."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

cache_changes = Table(
    "cache_changes",
    metadata,
    # Assigned by the database in commit order on SQLite (one writer at a time); on
    # PostgreSQL a lower number can commit later, which the reader watches for (gaps).
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # Never reuse a number, even once every row has been pruned: readers remember the last.
    sqlite_autoincrement=True,
)
Index("ix_cache_changes_at", cache_changes.c.at)
