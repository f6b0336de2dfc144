"""Follow edges, written twice (TAO-style): the out-edge on the follower's shard, the in-edge
on the followee's shard (the latter by a job, so each write is one local transaction)."""

from sqlalchemy import BigInteger, Column, Table

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

following = Table(
    "following",
    metadata,
    Column("follower_id", BigInteger, primary_key=True, autoincrement=False),
    Column("followee_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

followers = Table(
    "followers",
    metadata,
    Column("followee_id", BigInteger, primary_key=True, autoincrement=False),
    Column("follower_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Blocks and mutes live on the blocker's (muter's) shard: every check is a point lookup there
# ("does A block B?" when B follows, mentions or replies to A; "whom does the viewer hide?"
# once per page). ``blocked_by`` is the in-edge of a block on the blocked person's shard, kept
# by a job as ``followers`` is, so "who blocks the viewer?" is also one query on their shard.
blocks = Table(
    "blocks",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("target_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

mutes = Table(
    "mutes",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("target_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)

blocked_by = Table(
    "blocked_by",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),  # the blocked
    Column("blocker_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)
