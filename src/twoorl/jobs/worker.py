"""Running jobs: claim a batch under a lease, run each handler, delete on success, back off
and retry on failure, park as failed after ``max_attempts``.

A worker that dies mid-job loses nothing: its lease runs out and another worker runs the job
again, which is why every handler is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from twoorl.caching.entities import reading_the_databases
from twoorl.jobs.outbox import WAKE_CHANNEL
from twoorl.jobs.registry import JobContext, handler_for
from twoorl.jobs.tables import jobs
from twoorl.live.broker import LocalBroker
from twoorl.storage.shards import Shard, ShardSet
from twoorl.storage.types import utcnow
from twoorl.timelines.cache import HomeTimelines

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict
    attempts: int


class Worker:
    def __init__(
        self,
        shards: ShardSet,
        *,
        broker: LocalBroker | None = None,
        timelines: HomeTimelines | None = None,
        # Small batches: the lease starts at the claim, so a long batch's tail could outlive it.
        batch_size: int = 10,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        poll_interval: float = 1.0,
        retry_delay: Callable[[int], timedelta] | None = None,
    ) -> None:
        self.shards = shards
        self.context = JobContext(shards, broker or LocalBroker(), timelines)
        self.retry_delay = retry_delay or backoff
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        # Shards told of new jobs since a loop last looked (their NOTIFY, or None: any shard).
        self._woken: set[int] = set()

    def wake(self, shard_index: int | None = None) -> None:
        """Tell the loop that new jobs were committed (on ``shard_index``, or anywhere), so it
        need not wait for the next poll."""
        if shard_index is None:
            self._woken.update(s.index for s in self.shards.shards)
        else:
            self._woken.add(shard_index)
        self._wake.set()

    async def run_forever(self, concurrency: int = 1) -> None:
        """Run ``concurrency`` claim-and-run loops until cancelled, woken early by
        PostgreSQL notifications from any process that queues a job."""
        listeners = [self._listen(s) for s in self.shards.shards if not s.is_sqlite]
        await asyncio.gather(*(self._loop() for _ in range(concurrency)), *listeners)

    async def _listen(self, shard: Shard) -> None:
        import asyncpg

        dsn = shard.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(
                    WAKE_CHANNEL, lambda *_, index=shard.index: self.wake(index)
                )
                self.wake(shard.index)  # jobs may have been queued while we were not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("job wake-up listener on shard %d lost; polling meanwhile", shard.index)
                await asyncio.sleep(self.poll_interval)
            finally:
                if connection is not None and not connection.is_closed():
                    await connection.close()

    async def _loop(self) -> None:
        # A wake-up names its shard, so a pass claims only where jobs were queued (one post
        # on a cluster of 8 shards would otherwise cost every loop 8 claims); each poll
        # interval, a full pass finds retries that came due and jobs whose wake-up was lost.
        full_pass_due = time.monotonic() + self.poll_interval
        while True:
            # Take the woken shards before the pass, not after: a wake-up that arrives during
            # the pass must cause another pass instead of being lost until the next poll.
            self._wake.clear()
            now = time.monotonic()
            if now >= full_pass_due:
                full_pass_due = now + self.poll_interval
                targets, self._woken = list(self.shards.shards), set()
            else:
                woken, self._woken = self._woken, set()
                targets = [s for s in self.shards.shards if s.index in woken]
            try:
                ran = await self._run_due_on(targets, full=len(targets) == len(self.shards))
            except Exception:
                log.exception("job worker pass failed; retrying")
                ran = {}
            if ran:
                self._woken.update(ran)  # those shards may hold more due jobs
                continue
            if self._woken:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=max(0.0, full_pass_due - time.monotonic())
                )

    async def drain(self, max_passes: int = 100) -> None:
        """Run jobs until none is due (jobs may queue further jobs)."""
        for _ in range(max_passes):
            if not await self.run_due_once():
                return
        raise RuntimeError(f"jobs kept coming after {max_passes} passes")

    async def run_due_once(self) -> int:
        return len(await self._run_due_on(self.shards.shards, full=True))

    async def _run_due_on(self, targets: list[Shard], *, full: bool) -> set[int]:
        """Claim and run a batch on each of ``targets``; the shards that had jobs. A full
        pass also parks jobs whose worker died during each attempt."""
        counts = await asyncio.gather(*(self._run_batch(s, full) for s in targets))
        return {shard.index for shard, count in zip(targets, counts, strict=True) if count}

    async def _run_batch(self, shard: Shard, full: bool) -> int:
        claimed = await self._claim(shard, park_stuck=full)
        done = [job.id for job in claimed if await self._run(shard, job)]
        if done:
            # One delete for the batch: a crash before it runs them again, as a crash during
            # any job would (handlers are idempotent), and the lease covers the batch.
            async with shard.write() as conn:
                await conn.execute(_DELETE_DONE, {"ids": done})
        return len(claimed)

    async def _claim(self, shard: Shard, *, park_stuck: bool = True) -> list[ClaimedJob]:
        now = utcnow()
        async with shard.write() as conn:
            # A job whose lease ran out after its last allowed attempt killed its worker each
            # time (a crash, an out-of-memory kill): park it instead of claiming it forever.
            if park_stuck:
                await conn.execute(_PARK_STUCK, {"now": now, "max_attempts": self.max_attempts})
            claim = {"now": now, "batch": self.batch_size, "until": now + self.lease}
            rows = (await conn.execute(_CLAIM, claim)).all()
        return [ClaimedJob(r.id, r.kind, json.loads(r.payload), r.attempts) for r in rows]

    async def _run(self, shard: Shard, job: ClaimedJob) -> bool:
        """Run one job; whether it succeeded (its row is then the caller's to delete)."""
        try:
            # A job acts on what is true now: it may run before this process has read the
            # change that queued it, so it reads the databases, never this process's caches.
            with reading_the_databases():
                await handler_for(job.kind)(self.context, job.payload)
        except Exception as exc:
            log.warning("job %s (%s) attempt %d failed: %r", job.id, job.kind, job.attempts, exc)
            await self._record_failure(shard, job, f"{type(exc).__name__}: {exc}")
            return False
        return True

    async def _record_failure(self, shard: Shard, job: ClaimedJob, error: str) -> None:
        now = utcnow()
        values: dict[str, object] = {"last_error": error[:2000], "locked_until": None}
        if job.attempts >= self.max_attempts:
            values["failed_at"] = now
        else:
            values["run_after"] = now + self.retry_delay(job.attempts)
        async with shard.write() as conn:
            await conn.execute(update(jobs).where(and_(jobs.c.id == job.id)).values(**values))


# Built once, with the moment and the sizes as parameters: a worker runs them on every pass.
_DUE = (
    select(jobs.c.id)
    .where(
        jobs.c.failed_at.is_(None),
        jobs.c.run_after <= bindparam("now"),
        or_(jobs.c.locked_until.is_(None), jobs.c.locked_until < bindparam("now")),
    )
    .order_by(jobs.c.run_after, jobs.c.id)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(jobs)
    .where(jobs.c.id.in_(_DUE.scalar_subquery()))
    .values(locked_until=bindparam("until"), attempts=jobs.c.attempts + 1)
    .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts)
)
_PARK_STUCK = (
    update(jobs)
    .where(
        jobs.c.failed_at.is_(None),
        jobs.c.attempts >= bindparam("max_attempts"),
        jobs.c.locked_until < bindparam("now"),
    )
    .values(
        failed_at=bindparam("now"),
        locked_until=None,
        last_error=func.coalesce(jobs.c.last_error, "")
        + "(its worker stopped during each attempt)",
    )
)
_DELETE_DONE = delete(jobs).where(jobs.c.id.in_(bindparam("ids", expanding=True)))


def backoff(attempts: int) -> timedelta:
    """Exponential: 2 s, 4 s, 8 s ... capped at one hour."""
    return timedelta(seconds=min(2**attempts, 3600))
