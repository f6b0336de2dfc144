"""Statistics aggregates, on every shard (each shard counts the events it stores).

``daily_stats`` holds one counter per UTC day and metric, changed in the same transaction as
the row it counts, so a crash can never make the two disagree:

- ``registrations``: accounts created that day (on the directory, the first database);
- ``posts``: posts written that day that still exist (reposts are not counted), on the
  author's shard; a delete takes the post off the day it was written;
- ``posters``: people with at least one existing post written that day (daily active
  posters), on their shard; kept from ``daily_posters`` below;
- ``follows``: follow edges made that day that still exist, on the follower's shard.

Totals are the sums over every day and shard. Days are UTC.

Each counter is split by the logical shard of the row it counts (the author, the follower,
the new account), for two reasons: concurrent posts on one database update different rows
instead of queueing on one hot "posts today" row, and the rows move with their logical shard
when a cluster is resharded (``logical_shard`` is the routing key; ``daily_posters`` routes by
``account_id``). The directory's ``registrations`` rows stay on the first database.
"""

from sqlalchemy import BigInteger, Column, Date, Integer, SmallInteger, String, Table

from twoorl.storage.metadata import metadata

daily_stats = Table(
    "daily_stats",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", String(20), primary_key=True),
    Column("logical_shard", SmallInteger, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False, server_default="0"),
)

# On the author's shard: how many existing posts each person wrote on each day. The row lock
# its upsert takes orders concurrent posts and deletes by one person on one day, so the step
# from 0 to 1 (and back) that moves the ``posters`` counter is seen exactly once.
daily_posters = Table(
    "daily_posters",
    metadata,
    Column("day", Date, primary_key=True),
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("posts", Integer, nullable=False, server_default="0"),
)
