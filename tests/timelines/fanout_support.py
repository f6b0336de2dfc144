"""Helpers for the fan-out tests: Redis key prefixes of each test's own."""

from __future__ import annotations

import os
import secrets

import pytest

# Three real shards: SQLite files, or PostgreSQL databases (see ``shard_urls``).
on_three_shards = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)


def fresh_prefix() -> str:
    return f"twoorl-test:{os.getpid()}:{secrets.token_hex(4)}:"
