"""Post tables, all on the author's home shard except where noted."""

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from twoorl.accounts.tables import account_counters
from twoorl.storage.metadata import metadata

posts = Table(
    "posts",
    metadata,
    # The snowflake id carries the creation time; there is no separate timestamp column.
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("author_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("in_reply_to_id", BigInteger, nullable=True),
    Column("in_reply_to_account_id", BigInteger, nullable=True),
    # A repost is a row of its own (so fan-in finds it like any post), with empty text.
    Column("repost_of_id", BigInteger, nullable=True),
    Column("repost_of_account_id", BigInteger, nullable=True),
    # The author is marked as a spammer or suspended (migration 0007): the post stays on their
    # profile but leaves the shared timelines. Kept by a job when the flag changes.
    Column("hidden", Boolean, nullable=False, server_default="0"),
)
# One repost per person per post; NULLs (ordinary posts) never collide.
Index("uq_posts_author_id_repost_of_id", posts.c.author_id, posts.c.repost_of_id, unique=True)
# Each author's newest-first page comes straight off this index (fan-in reads).
Index("ix_posts_author_id_id", posts.c.author_id, posts.c.id.desc())

# Each author's newest post id (posts and reposts), kept by triggers on ``posts`` in the same
# transaction as the insert or delete (migration 0003). Fan-in picks the authors whose heads
# can reach the page from here, before reading any post (see timelines/queries.py).
author_heads = Table(
    "author_heads",
    metadata,
    Column("author_id", BigInteger, primary_key=True, autoincrement=False),
    # NULL once every post of the author is deleted.
    Column("head_id", BigInteger, nullable=True),
)

post_tags = Table(
    "post_tags",
    metadata,
    Column("tag", String(100), primary_key=True),
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
)

# On the mentioned account's shard: "posts that mention me" is one local query.
mentions = Table(
    "mentions",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("post_id", BigInteger, primary_key=True, autoincrement=False),
)

# On the parent post's shard: a thread's replies are one local query.
replies = Table(
    "replies",
    metadata,
    Column("parent_id", BigInteger, primary_key=True, autoincrement=False),
    Column("reply_id", BigInteger, primary_key=True, autoincrement=False),
)

# On the author's shard: the ``Idempotency-Key`` a client sent with a new post, so a retried
# request returns the post it already made instead of posting twice. Written in the post's
# own transaction; keys older than a day are dropped as new ones arrive.
post_idempotency_keys = Table(
    "post_idempotency_keys",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("key_hash", String(64), primary_key=True),
    Column("post_id", BigInteger, nullable=False),
)

# Trending tags of the last 24 hours read an id range of ``post_tags``, tags included, from
# this index alone (migration 0005).
Index("ix_post_tags_post_id", post_tags.c.post_id, post_tags.c.tag)
# The directory's most-followed order, (followers, account_id) descending on every shard
# (migration 0005; declared here, beside the other search indexes, so accounts/ stays as is).
Index("ix_account_counters_followers", account_counters.c.followers, account_counters.c.account_id)
# PostgreSQL's full-text index is an expression index, ``twoorl_search_document(text)``, and
# SQLite's an FTS5 table kept by triggers: neither is a column, so neither is declared here
# (see migration 0005 and twoorl/search/service.py).
