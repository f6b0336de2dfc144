"""Counting what a request asks of the databases and Redis, exactly: SQLAlchemy's
``before_cursor_execute`` event on every shard's engine (each statement sent, BEGIN included)
and every command or pipeline redis-py sends (one round trip each)."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from redis.asyncio.connection import AbstractConnection
from sqlalchemy import event

from twoorl.storage.shards import ShardSet


@dataclass
class Counts:
    by_shard: Counter = field(default_factory=Counter)
    statements: list[tuple[int, str]] = field(default_factory=list)  # (shard, SQL)
    redis_round_trips: int = 0

    @property
    def sql(self) -> int:
        return sum(self.by_shard.values())

    def report(self) -> str:
        lines = [f"{self.sql} statements, {self.redis_round_trips} Redis round trips"]
        lines += [
            f"  shard {shard}: {' '.join(sql.split())[:160]}" for shard, sql in self.statements
        ]
        return "\n".join(lines)


@contextmanager
def counting(shards: ShardSet):
    """Counts everything sent to ``shards`` and to any Redis while the block runs."""
    counts = Counts()
    listeners = []
    for shard in shards.shards:

        def listen(_conn, _cursor, statement, _params, _context, _many, index=shard.index):
            counts.by_shard[index] += 1
            counts.statements.append((index, statement))

        event.listen(shard.engine.sync_engine, "before_cursor_execute", listen)
        listeners.append((shard.engine.sync_engine, listen))
    original = AbstractConnection.send_packed_command

    async def send(self, command, check_health=True):
        counts.redis_round_trips += 1
        return await original(self, command, check_health)

    AbstractConnection.send_packed_command = send
    try:
        yield counts
    finally:
        AbstractConnection.send_packed_command = original
        for engine, listen in listeners:
            event.remove(engine, "before_cursor_execute", listen)
