"""Databases: one engine per physical shard, the logical-shard router, schema and migrations."""
