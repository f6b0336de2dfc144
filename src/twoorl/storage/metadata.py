"""The one MetaData that every domain's ``tables`` module registers into.

Every physical shard carries the same schema; the account directory tables are only used on
the first database. A uniform schema keeps migrations to one code path.
"""

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def load_all_tables() -> MetaData:
    """Import every domain's tables so the metadata is complete (for Alembic and tests)."""
    from twoorl.accounts import tables as _accounts  # noqa: F401
    from twoorl.caching import tables as _caching  # noqa: F401
    from twoorl.graph import tables as _graph  # noqa: F401
    from twoorl.jobs import tables as _jobs  # noqa: F401
    from twoorl.moderation import tables as _moderation  # noqa: F401
    from twoorl.notifications import tables as _notifications  # noqa: F401
    from twoorl.oauth import tables as _oauth  # noqa: F401
    from twoorl.posts import tables as _posts  # noqa: F401
    from twoorl.reactions import tables as _reactions  # noqa: F401
    from twoorl.stats import tables as _stats  # noqa: F401

    return metadata
