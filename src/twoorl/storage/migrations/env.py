"""Alembic environment. ``twoorl migrate`` hands in an open connection per shard (see
``storage.migrate``); run from the command line it targets the first configured shard."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from twoorl.search.schema import include_name
from twoorl.storage.metadata import load_all_tables

target_metadata = load_all_tables()


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from twoorl.settings import load_settings
    from twoorl.storage.shards import create_shard_engine

    engine = create_shard_engine(load_settings().shard_urls[0])
    async with engine.connect() as conn:
        await conn.run_sync(run_with)
        await conn.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
elif context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `twoorl migrate`")
else:
    asyncio.run(run_from_settings())
