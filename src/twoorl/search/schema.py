"""What migration 0005 creates outside the SQLAlchemy metadata.

SQLite's full-text index is an FTS5 virtual table, ``posts_fts``, with shadow tables
(``posts_fts_data``, ``_idx``, ``_docsize``, ``_config``) that SQLite makes and keeps; none of
them can be declared as a ``Table``. PostgreSQL's is an expression index, ``ix_posts_search``
on ``twoorl_search_document(text)``, a function of the migration's, and hashtag prefixes use
``ix_post_tags_tag_pattern`` (``text_pattern_ops``), which SQLite does not need. Schema comparisons
(Alembic's autogenerate, the migration test) pass :func:`include_name` so that they neither
report them nor offer to drop them.
"""

from __future__ import annotations

FTS_TABLE = "posts_fts"
# PostgreSQL-only indexes: the GIN expression index and hashtag prefixes (text_pattern_ops).
PG_INDEXES = frozenset({"ix_posts_search", "ix_post_tags_tag_pattern"})


def include_name(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: everything except the full-text index objects."""
    if type_ == "index":
        return name not in PG_INDEXES
    if type_ == "table" and name is not None:
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    return True
