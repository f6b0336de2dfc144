"""One row per (recipient, kind, actor, post): the unique key makes creating one idempotent."""

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, UniqueConstraint

from twoorl.storage.metadata import metadata

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor_id", BigInteger, nullable=False),
    # 0 for notifications about no post (a follow): NULLs would defeat the unique key.
    Column("post_id", BigInteger, nullable=False, server_default="0"),
    Column("read", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("account_id", "kind", "actor_id", "post_id", name="uq_notifications_event"),
)
Index("ix_notifications_account_id_id", notifications.c.account_id, notifications.c.id.desc())
