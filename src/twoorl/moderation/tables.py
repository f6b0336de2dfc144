"""The audit log, in the account directory (the first database): every moderation action,
who took it, when and why, in one place that any moderator can read."""

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("actor_id", BigInteger, nullable=True),  # NULL: the command line, not a person
    Column("action", String(32), nullable=False),
    Column("target_account_id", BigInteger, nullable=True),
    Column("target_post_id", BigInteger, nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_audit_log_target_account_id", audit_log.c.target_account_id)

# Reports from people about a post or an account, in the directory: one queue for every
# moderator, whichever shards the reporter and the reported live on.
reports = Table(
    "reports",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("reporter_id", BigInteger, nullable=False),
    Column("target_account_id", BigInteger, nullable=False),
    Column("target_post_id", BigInteger, nullable=True),
    Column("category", String(16), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", BigInteger, nullable=True),
    Column("outcome", Text, nullable=False, server_default=""),
)
# The open queue: unresolved reports, oldest first.
Index("ix_reports_resolved_at_id", reports.c.resolved_at, reports.c.id)
