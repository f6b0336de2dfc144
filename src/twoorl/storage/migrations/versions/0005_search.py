"""full-text search of posts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:20:00

PostgreSQL: a GIN index on an expression, ``twoorl_search_document(text)``, for posts that are
not reposts. The expression is the ``simple`` text-search configuration (no stemming, no stop
words: posts come in 13 languages and one post mixes them) over the lower-cased text, with
every Chinese/Japanese ideograph and kana spaced apart, so CJK text, which has no spaces between
words, is indexed character by character and a CJK word is searched as a phrase of its
characters. An expression index needs no column and no trigger: it is kept in the same
transaction as every write to ``posts`` (bulk COPY included).

SQLite: an FTS5 external-content table ``posts_fts`` over ``posts.text`` with the trigram
tokenizer (case-insensitive substrings, CJK included), kept by triggers in the same
transaction as the post's insert or delete, like ``author_heads`` (0003).

Both: ``post_tags(post_id, tag)`` for trending tags of the last 24 hours (an id range), and
``account_counters(followers, account_id)`` for the directory's most-followed order.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Hiragana, katakana, CJK extension A, unified ideographs, compatibility ideographs. Must
# match twoorl.search.query.CJK.
_CJK_CLASS = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"

_PG_STATEMENTS = [
    f"""
CREATE FUNCTION twoorl_search_document(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector(
        'simple'::regconfig,
        -- chr(962) is the final sigma, which lower() keeps; fold it to chr(963), sigma.
        translate(lower(regexp_replace(body, '({_CJK_CLASS})', ' \\1 ', 'g')), chr(962), chr(963))
    )
$$
    """,
    """
CREATE INDEX ix_posts_search ON posts USING gin (twoorl_search_document(text))
    WHERE repost_of_id IS NULL
    """,
    # Hashtag prefixes (tag LIKE 'te%') whatever the database's collation. SQLite needs no
    # such index: its search uses GLOB, which the primary key (tag, post_id) answers.
    "CREATE INDEX ix_post_tags_tag_pattern ON post_tags (tag text_pattern_ops)",
]

_SQLITE_STATEMENTS = [
    """
    CREATE VIRTUAL TABLE posts_fts USING fts5(
        text, content='posts', content_rowid='id', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts WHEN NEW.repost_of_id IS NULL BEGIN
        INSERT INTO posts_fts (rowid, text) VALUES (NEW.id, NEW.text);
    END
    """,
    """
    CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts WHEN OLD.repost_of_id IS NULL BEGIN
        INSERT INTO posts_fts (posts_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
    END
    """,
    # Posts are not edited today; should they ever be, the index follows.
    """
    CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, repost_of_id ON posts BEGIN
        INSERT INTO posts_fts (posts_fts, rowid, text)
            SELECT 'delete', OLD.id, OLD.text WHERE OLD.repost_of_id IS NULL;
        INSERT INTO posts_fts (rowid, text)
            SELECT NEW.id, NEW.text WHERE NEW.repost_of_id IS NULL;
    END
    """,
    "INSERT INTO posts_fts (rowid, text) SELECT id, text FROM posts WHERE repost_of_id IS NULL",
]


def upgrade() -> None:
    # (post_id, tag): trending reads an id range and only needs the tags (covering).
    op.create_index("ix_post_tags_post_id", "post_tags", ["post_id", "tag"])
    op.create_index(
        "ix_account_counters_followers", "account_counters", ["followers", "account_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # The index build is the backfill.
        for statement in _PG_STATEMENTS:
            op.execute(statement)
    else:
        for statement in _SQLITE_STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_tags_tag_pattern")
        op.execute("DROP INDEX IF EXISTS ix_posts_search")
        op.execute("DROP FUNCTION IF EXISTS twoorl_search_document(text)")
    else:
        for trigger in ("posts_fts_insert", "posts_fts_delete", "posts_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    op.drop_index("ix_account_counters_followers", table_name="account_counters")
    op.drop_index("ix_post_tags_post_id", table_name="post_tags")
