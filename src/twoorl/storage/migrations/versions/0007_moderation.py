"""moderation: roles, spam flags and suspension on accounts; hidden posts; the audit log; reports

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from twoorl.storage.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite): the triggers on these tables stay put.
    op.add_column(
        "accounts", sa.Column("role", sa.String(16), server_default="user", nullable=False)
    )
    op.add_column("accounts", sa.Column("spam", sa.Boolean(), server_default="0", nullable=False))
    op.add_column("accounts", sa.Column("suspended_at", UTCDateTime(), nullable=True))
    op.add_column("posts", sa.Column("hidden", sa.Boolean(), server_default="0", nullable=False))
    moderated = sa.text("spam OR suspended_at IS NOT NULL")
    op.create_index(
        op.f("ix_accounts_moderated"),
        "accounts",
        ["id"],
        postgresql_where=moderated,
        sqlite_where=moderated,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=True),
        sa.Column("target_post_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_target_account_id"), "audit_log", ["target_account_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=False),
        sa.Column("target_post_id", sa.BigInteger(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index(op.f("ix_reports_resolved_at_id"), "reports", ["resolved_at", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_resolved_at_id"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_audit_log_target_account_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_accounts_moderated"), table_name="accounts")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("hidden")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("suspended_at")
        batch.drop_column("spam")
        batch.drop_column("role")
