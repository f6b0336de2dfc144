"""blocks and mutes, on the blocker's (muter's) shard; blocked_by, a block's in-edge on the
blocked person's shard

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from twoorl.storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("blocks", "mutes"):
        op.create_table(
            name,
            sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("target_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.PrimaryKeyConstraint("account_id", "target_id", name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "blocked_by",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("blocker_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "blocker_id", name=op.f("pk_blocked_by")),
    )


def downgrade() -> None:
    op.drop_table("blocked_by")
    op.drop_table("mutes")
    op.drop_table("blocks")
