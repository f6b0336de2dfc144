"""The migrations build exactly the schema the table definitions describe, on both dialects:
a table or index added to one but not the other fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from twoorl.search.schema import include_name
from twoorl.storage.metadata import load_all_tables


async def test_migrated_schema_matches_the_tables(shards) -> None:
    metadata = load_all_tables()

    def differences(sync_conn) -> list:
        return compare_metadata(
            MigrationContext.configure(sync_conn, opts={"include_name": include_name}), metadata
        )

    for shard in shards.shards:
        async with shard.engine.connect() as conn:
            found = await conn.run_sync(differences)
        assert found == [], found
