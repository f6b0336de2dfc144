"""cache_changes: the change feed that keeps every process's caches right without Redis

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from twoorl.storage.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_cache_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cache_changes_at", "cache_changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_cache_changes_at", table_name="cache_changes")
    op.drop_table("cache_changes")
