"""author heads: each author's newest post id, kept by triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:50:00

Triggers rather than application code keep the head right on every path that writes
``posts`` (posting, reposting, undoing, deleting, the jobs that clean up after a delete), in
the same transaction as the write. Bulk loaders may disable them and rebuild the table with
the backfill statement below.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO author_heads (author_id, head_id)
SELECT author_id, max(id) FROM posts GROUP BY author_id
"""

_PG_STATEMENTS = [
    """
CREATE FUNCTION twoorl_author_head_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO author_heads (author_id, head_id) VALUES (NEW.author_id, NEW.id)
    ON CONFLICT (author_id)
    DO UPDATE SET head_id = GREATEST(author_heads.head_id, EXCLUDED.head_id);
    RETURN NULL;
END $$
    """,
    """
CREATE FUNCTION twoorl_author_head_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The row lock taken by this UPDATE orders it against a concurrent insert's upsert.
    UPDATE author_heads
    SET head_id = (SELECT max(id) FROM posts WHERE author_id = OLD.author_id)
    WHERE author_id = OLD.author_id AND head_id = OLD.id;
    RETURN NULL;
END $$
    """,
    """
CREATE TRIGGER posts_author_head_insert AFTER INSERT ON posts
    FOR EACH ROW EXECUTE FUNCTION twoorl_author_head_on_insert()
    """,
    """
CREATE TRIGGER posts_author_head_delete AFTER DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION twoorl_author_head_on_delete()
    """,
]

_SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER posts_author_head_insert AFTER INSERT ON posts BEGIN
        INSERT INTO author_heads (author_id, head_id) VALUES (NEW.author_id, NEW.id)
        ON CONFLICT (author_id)
        DO UPDATE SET head_id = max(coalesce(head_id, 0), excluded.head_id);
    END
    """,
    """
    CREATE TRIGGER posts_author_head_delete AFTER DELETE ON posts BEGIN
        UPDATE author_heads
        SET head_id = (SELECT max(id) FROM posts WHERE author_id = OLD.author_id)
        WHERE author_id = OLD.author_id AND head_id = OLD.id;
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "author_heads",
        sa.Column("author_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("head_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("author_id", name=op.f("pk_author_heads")),
    )
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_STATEMENTS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS posts_author_head_insert ON posts")
        op.execute("DROP TRIGGER IF EXISTS posts_author_head_delete ON posts")
        op.execute("DROP FUNCTION IF EXISTS twoorl_author_head_on_insert()")
        op.execute("DROP FUNCTION IF EXISTS twoorl_author_head_on_delete()")
    else:
        op.execute("DROP TRIGGER IF EXISTS posts_author_head_insert")
        op.execute("DROP TRIGGER IF EXISTS posts_author_head_delete")
    op.drop_table("author_heads")
