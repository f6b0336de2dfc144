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
