"""incremental statistics

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:20:00

``daily_stats`` (one counter per UTC day and metric) and ``daily_posters`` (each person's
existing posts per day), kept by the services in the same transaction as the rows they count
(see ``twoorl/stats/tables.py``). The backfill below counts the rows already there, so an
existing database gets right charts and totals from the start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Post ids are snowflakes: milliseconds since 2025-01-01T00:00:00Z above bit 22.
_SQLITE_DAYS = {
    "post": "date(((id >> 22) + 1735689600000) / 1000, 'unixepoch')",
    "timestamp": "date(created_at)",
}
_PG_DAYS = {
    "post": "(to_timestamp(((id >> 22) + 1735689600000) / 1000.0) AT TIME ZONE 'UTC')::date",
    "timestamp": "created_at::date",  # naive UTC timestamps
}
_SHARD = "((%s >> 12) & 1023)"  # the logical shard bits of a snowflake id


def backfill_statements(dialect_name: str) -> list[str]:
    """The statements that count existing rows into empty aggregate tables."""
    days = _PG_DAYS if dialect_name == "postgresql" else _SQLITE_DAYS
    return [
        f"""
        INSERT INTO daily_stats (day, metric, logical_shard, value)
        SELECT {days["timestamp"]}, 'registrations', {_SHARD % "id"}, count(*) FROM accounts
        GROUP BY {days["timestamp"]}, {_SHARD % "id"}
        """,
        f"""
        INSERT INTO daily_posters (day, account_id, posts)
        SELECT {days["post"]}, author_id, count(*) FROM posts WHERE repost_of_id IS NULL
        GROUP BY {days["post"]}, author_id
        """,
        f"""
        INSERT INTO daily_stats (day, metric, logical_shard, value)
        SELECT day, 'posts', {_SHARD % "account_id"}, sum(posts) FROM daily_posters
        GROUP BY day, {_SHARD % "account_id"}
        """,
        f"""
        INSERT INTO daily_stats (day, metric, logical_shard, value)
        SELECT day, 'posters', {_SHARD % "account_id"}, count(*) FROM daily_posters
        WHERE posts > 0 GROUP BY day, {_SHARD % "account_id"}
        """,
        f"""
        INSERT INTO daily_stats (day, metric, logical_shard, value)
        SELECT {days["timestamp"]}, 'follows', {_SHARD % "follower_id"}, count(*) FROM following
        GROUP BY {days["timestamp"]}, {_SHARD % "follower_id"}
        """,
    ]


def upgrade() -> None:
    op.create_table(
        "daily_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("logical_shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "logical_shard", name=op.f("pk_daily_stats")),
    )
    op.create_table(
        "daily_posters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("posts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "account_id", name=op.f("pk_daily_posters")),
    )
    for statement in backfill_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("daily_posters")
    op.drop_table("daily_stats")
