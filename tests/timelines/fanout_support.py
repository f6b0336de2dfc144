"""Helpers for the fan-out tests: Redis key prefixes of each test's own."""

from __future__ import annotations

import os
import secrets

import pytest
import redis

# Three real shards: SQLite files, or PostgreSQL databases (see ``shard_urls``).
on_three_shards = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)


def fresh_prefix() -> str:
    return f"twoorl-test:{os.getpid()}:{secrets.token_hex(4)}:"


def forget_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
