"""Reaction tables. Each reaction is written twice, like a follow: the reactor's record on the
reactor's shard (the truth) and the post's record on the post's shard (kept by a job)."""

from sqlalchemy import BigInteger, Column, Integer, Table

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

# On the liker's shard: what I liked.
likes = Table(
    "likes",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# On the post's shard: who liked it, who reposted it.
post_likes = Table(
    "post_likes",
    metadata,
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
)
post_reposts = Table(
    "post_reposts",
    metadata,
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
)

# On the post's shard; changed only in the transaction that changes the rows it counts.
post_counters = Table(
    "post_counters",
    metadata,
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("reposts", Integer, nullable=False, server_default="0"),
    Column("replies", Integer, nullable=False, server_default="0"),
)
