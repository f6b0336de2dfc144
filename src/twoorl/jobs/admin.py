"""Looking after the queues: counts per shard, and re-queuing parked jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class FailedJob:
    id: int
    shard: int
    kind: str
    attempts: int
    failed_at: datetime
    last_error: str


async def failed_jobs(shards: ShardSet, *, limit: int = 100) -> list[FailedJob]:
    """The parked jobs of every shard, most recently failed first."""

    async def parked(shard, conn) -> list[FailedJob]:
        rows = await conn.execute(
            select(jobs)
            .where(jobs.c.failed_at.is_not(None))
            .order_by(jobs.c.failed_at.desc())
            .limit(limit)
        )
        return [
            FailedJob(r.id, shard.index, r.kind, r.attempts, r.failed_at, r.last_error or "")
            for r in rows
        ]

    found = [job for batch in await shards.gather(parked) for job in batch]
    return sorted(found, key=lambda job: job.failed_at, reverse=True)[:limit]


async def retry_job(shards: ShardSet, job_id: int) -> bool:
    """Re-queue one parked job (a job's id names the shard whose outbox holds it)."""
    async with shards.for_id(job_id).write() as conn:
        result = await conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.failed_at.is_not(None))
            .values(failed_at=None, attempts=0, run_after=utcnow(), locked_until=None)
        )
    return result.rowcount > 0
