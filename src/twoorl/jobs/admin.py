"""Looking after the queues: counts per shard, and re-queuing parked jobs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, update

from twoorl.jobs.tables import jobs
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow


@dataclass(frozen=True)
class QueueCounts:
    shard: int
    pending: int
    failed: int


async def queue_counts(shards: ShardSet) -> list[QueueCounts]:
    async def count(shard, conn) -> QueueCounts:
        row = (
            await conn.execute(
                select(
                    func.count(case((jobs.c.failed_at.is_(None), 1))),
                    func.count(jobs.c.failed_at),
                )
            )
        ).one()
        return QueueCounts(shard.index, row[0], row[1])

    return await shards.gather(count)


async def retry_failed(shards: ShardSet) -> int:
    """Give every parked job a fresh set of attempts, due now. Returns how many."""
    total = 0
    for shard in shards.shards:
        async with shard.write() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.failed_at.is_not(None))
                .values(failed_at=None, attempts=0, run_after=utcnow(), locked_until=None)
            )
            total += result.rowcount
    return total
