"""Apply Alembic migrations to every physical shard."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from twoorl.storage.shards import Shard, ShardSet


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "twoorl.storage:migrations")
    return config


async def migrate_shards(shards: ShardSet) -> None:
    """Upgrade each shard to the newest revision. One at a time: Alembic keeps its migration
    context in module globals, so concurrent upgrades would step on each other."""
    for shard in shards.shards:
        await _migrate(shard)


async def _migrate(shard: Shard) -> None:
    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with shard.engine.connect() as conn:
        await conn.run_sync(upgrade)
        await conn.commit()
