"""The outbox: one ``jobs`` table per shard, written in the transaction that needs the job."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("run_after", UTCDateTime, nullable=False),
    # A claimed job is leased: if its worker dies, the lease runs out and another takes it.
    Column("locked_until", UTCDateTime, nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)
Index("ix_jobs_due", jobs.c.failed_at, jobs.c.run_after)
