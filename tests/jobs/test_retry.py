"""Retries, back-off, parking and re-queuing of jobs, on every backend.

Test-only job kinds are registered once, at import (the registry is global). Each test gives
its jobs a fresh token, so the call counts of one test never leak into another.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from twoorl.ids import new_owner_id
from twoorl.jobs import admin
from twoorl.jobs import worker as worker_module
from twoorl.jobs.outbox import enqueue
from twoorl.jobs.registry import JobContext, handles
from twoorl.jobs.tables import jobs
from twoorl.jobs.worker import Worker, backoff
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

TWOORL = [sys.executable, "-c", "from twoorl.cli import main; main()"]
NO_DELAY = timedelta(0)

calls: Counter[str] = Counter()
# Set by test_a_crashed_worker_s_job_runs_again_after_its_lease: the first call hangs on it.
hang_release: dict[str, asyncio.Event] = {}


class Flaky(RuntimeError):
    pass


@handles("test.retry.flaky")
async def _flaky(_ctx: JobContext, payload: dict[str, Any]) -> None:
    calls[payload["token"]] += 1
    if calls[payload["token"]] <= payload["failures"]:
        raise Flaky(f"flaky failure number {calls[payload['token']]} for {payload['token']}")


@handles("test.retry.always_fails")
async def _always_fails(_ctx: JobContext, payload: dict[str, Any]) -> None:
    calls[payload["token"]] += 1
    raise Flaky(f"always broken: {payload['token']}")


@handles("test.retry.hangs_once")
async def _hangs_once(_ctx: JobContext, payload: dict[str, Any]) -> None:
    calls[payload["token"]] += 1
    if calls[payload["token"]] == 1:
        await hang_release[payload["token"]].wait()


@handles("test.retry.always_hangs")
async def _always_hangs(_ctx: JobContext, payload: dict[str, Any]) -> None:
    """Stands in for a job that kills its worker every time (a crash, an OOM kill)."""
    calls[payload["token"]] += 1
    await asyncio.Event().wait()


@pytest.fixture
async def job_shards(shard_urls: list[str]) -> AsyncIterator[ShardSet]:
    shards = ShardSet(shard_urls)
    yield shards
    await shards.dispose()


async def queue(shards: ShardSet, kind: str, **payload: object) -> tuple[str, int]:
    """Enqueue ``kind`` in its owner's transaction; returns the token and the job id."""
    token = uuid.uuid4().hex
    owner_id = new_owner_id()
    async with shards.for_id(owner_id).write() as conn:
        job_id = await enqueue(conn, kind, {"token": token, **payload}, owner_id=owner_id)
    return token, job_id


async def job_row(shards: ShardSet, job_id: int):
    rows = []
    for shard in shards.shards:
        async with shard.read() as conn:
            rows += (await conn.execute(select(jobs).where(jobs.c.id == job_id))).all()
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


async def run_until_idle(worker: Worker, max_passes: int = 20) -> int:
    passes = 0
    while await worker.run_due_once():
        passes += 1
        assert passes < max_passes, "the queue never emptied"
    return passes


def run_twoorl(*args: str, shard_urls: list[str], data_dir: Path) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWOORL_")}
    env = {**clean, "TWOORL_SHARDS": ",".join(shard_urls), "TWOORL_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [*TWOORL, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def all_line(output: str) -> tuple[int, int]:
    """(pending, failed) from the ``all`` line of ``twoorl jobs``."""
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == "all":
            return int(fields[1]), int(fields[2])
    raise AssertionError(f"no 'all' line in:\n{output}")


async def test_a_flaky_job_is_retried_until_it_succeeds(job_shards: ShardSet) -> None:
    token, job_id = await queue(job_shards, "test.retry.flaky", failures=2)
    worker = Worker(job_shards, retry_delay=lambda n: NO_DELAY, max_attempts=5)

    await run_until_idle(worker)

    assert calls[token] == 3
    assert await job_row(job_shards, job_id) is None
    assert [(c.pending, c.failed) for c in await admin.queue_counts(job_shards)] == [(0, 0)] * len(
        job_shards
    )


async def test_failures_record_the_error_and_release_the_lease(job_shards: ShardSet) -> None:
    token, job_id = await queue(job_shards, "test.retry.flaky", failures=1)
    worker = Worker(job_shards, retry_delay=lambda n: NO_DELAY, max_attempts=5)

    assert await worker.run_due_once() == 1

    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.attempts == 1
    assert row.failed_at is None
    assert row.locked_until is None
    assert row.last_error == f"Flaky: flaky failure number 1 for {token}"
    await run_until_idle(worker)
    assert calls[token] == 2
    assert await job_row(job_shards, job_id) is None


async def test_a_job_that_always_fails_is_parked_then_requeued_by_the_cli(
    job_shards: ShardSet, shard_urls: list[str], tmp_path: Path
) -> None:
    token, job_id = await queue(job_shards, "test.retry.always_fails")
    worker = Worker(job_shards, retry_delay=lambda n: NO_DELAY, max_attempts=3)

    await run_until_idle(worker)

    assert calls[token] == 3
    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is not None
    assert row.attempts == 3
    assert f"always broken: {token}" in row.last_error
    assert row.last_error.startswith("Flaky: ")
    counts = await admin.queue_counts(job_shards)
    assert sum(c.failed for c in counts) == 1
    assert sum(c.pending for c in counts) == 0
    home = job_shards.for_id(job_id).index
    assert [c.failed for c in counts if c.shard == home] == [1]
    # Parked means parked: more passes leave it alone.
    assert await worker.run_due_once() == 0
    assert calls[token] == 3

    listing = await asyncio.to_thread(
        run_twoorl, "jobs", shard_urls=shard_urls, data_dir=tmp_path / "cli"
    )
    assert all_line(listing) == (0, 1), listing
    lines = [line.split() for line in listing.splitlines()]
    assert ["shard", "pending", "failed"] in lines
    assert [str(home), "0", "1"] in lines, listing

    requeued = await asyncio.to_thread(
        run_twoorl, "jobs", "retry-failed", shard_urls=shard_urls, data_dir=tmp_path / "cli"
    )
    assert "Re-queued 1 failed job(s)." in requeued

    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is None
    assert row.attempts == 0
    assert row.locked_until is None
    assert row.run_after <= utcnow()
    counts = await admin.queue_counts(job_shards)
    assert (sum(c.pending for c in counts), sum(c.failed for c in counts)) == (1, 0)
    listing = await asyncio.to_thread(
        run_twoorl, "jobs", shard_urls=shard_urls, data_dir=tmp_path / "cli"
    )
    assert all_line(listing) == (1, 0), listing

    # A fresh set of attempts: it runs three more times, then is parked again.
    await run_until_idle(worker)
    assert calls[token] == 6
    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is not None
    assert row.attempts == 3


async def test_retry_failed_with_nothing_parked_requeues_nothing(
    job_shards: ShardSet, shard_urls: list[str], tmp_path: Path
) -> None:
    await queue(job_shards, "test.retry.flaky", failures=0)
    assert await admin.retry_failed(job_shards) == 0
    output = await asyncio.to_thread(
        run_twoorl, "jobs", "retry-failed", shard_urls=shard_urls, data_dir=tmp_path / "cli"
    )
    assert "Re-queued 0 failed job(s)." in output


async def test_a_job_of_an_unknown_kind_is_parked_not_fatal(job_shards: ShardSet) -> None:
    _token, job_id = await queue(job_shards, "test.retry.nobody_handles_this")
    good_token, good_id = await queue(job_shards, "test.retry.flaky", failures=0)
    worker = Worker(job_shards, retry_delay=lambda n: NO_DELAY, max_attempts=2)

    await run_until_idle(worker)

    assert calls[good_token] == 1
    assert await job_row(job_shards, good_id) is None
    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is not None
    assert row.attempts == 2
    assert "LookupError" in row.last_error
    assert "test.retry.nobody_handles_this" in row.last_error


def test_backoff_grows_and_is_capped_at_an_hour() -> None:
    assert timedelta(0) < backoff(1) < backoff(2) < backoff(3) < backoff(4)
    assert backoff(1) >= timedelta(seconds=1)
    assert backoff(30) == timedelta(hours=1)
    assert backoff(100) == timedelta(hours=1)
    delays = [backoff(n) for n in range(1, 101)]
    assert delays == sorted(delays)
    assert max(delays) == timedelta(hours=1)


async def test_a_failed_attempt_waits_out_the_default_backoff(job_shards: ShardSet) -> None:
    token, job_id = await queue(job_shards, "test.retry.flaky", failures=1)
    worker = Worker(job_shards, max_attempts=5)

    before = utcnow()
    assert await worker.run_due_once() == 1
    after = utcnow()

    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is None
    assert row.attempts == 1
    assert row.locked_until is None
    assert before + backoff(1) <= row.run_after <= after + backoff(1)
    assert row.run_after > utcnow()
    # Not due yet: nothing runs.
    assert await worker.run_due_once() == 0
    assert calls[token] == 1
    counts = await admin.queue_counts(job_shards)
    assert (sum(c.pending for c in counts), sum(c.failed for c in counts)) == (1, 0)


class WorkerClock:
    """The workers' clock, moved forward by hand: leases run out when a test says so, not
    after a real sleep that a loaded machine can overshoot."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead

    def move_past(self, moment: datetime) -> None:
        self.ahead = max(self.ahead, moment - utcnow() + timedelta(seconds=1))


@pytest.fixture
def worker_clock(monkeypatch: pytest.MonkeyPatch) -> WorkerClock:
    clock = WorkerClock()
    monkeypatch.setattr(worker_module, "utcnow", clock)
    return clock


async def test_a_crashed_worker_s_job_runs_again_after_its_lease(
    job_shards: ShardSet, worker_clock: WorkerClock
) -> None:
    """A worker that dies mid-job (here: its task is cancelled) leaves the job leased; nobody
    takes it until the lease runs out, then another worker runs it to completion."""
    lease = timedelta(minutes=5)
    token, job_id = await queue(job_shards, "test.retry.hangs_once")
    hang_release[token] = asyncio.Event()
    doomed = Worker(job_shards, lease=lease, retry_delay=lambda n: NO_DELAY)
    survivor = Worker(job_shards, lease=lease, retry_delay=lambda n: NO_DELAY)

    crashed = asyncio.create_task(doomed.run_due_once())
    for _ in range(200):
        if calls[token]:
            break
        await asyncio.sleep(0.01)
    assert calls[token] == 1
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed

    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.attempts == 1
    assert row.locked_until is not None
    assert row.locked_until > utcnow() + lease - timedelta(minutes=1)
    assert await survivor.run_due_once() == 0
    assert calls[token] == 1

    worker_clock.move_past(row.locked_until)
    assert await survivor.run_due_once() == 1
    assert calls[token] == 2
    assert await job_row(job_shards, job_id) is None


async def crash_while_running(worker: Worker, token: str, calls_before: int) -> None:
    """Run a pass of ``worker`` until the job with ``token`` has started, then kill the pass."""
    task = asyncio.create_task(worker.run_due_once())
    try:
        for _ in range(300):
            if calls[token] > calls_before or task.done():
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_job_that_keeps_killing_its_worker_is_parked_after_max_attempts(
    job_shards: ShardSet, worker_clock: WorkerClock
) -> None:
    lease = timedelta(minutes=5)
    token, job_id = await queue(job_shards, "test.retry.always_hangs")
    worker = Worker(job_shards, lease=lease, max_attempts=2, retry_delay=lambda n: NO_DELAY)

    for attempt in (1, 2):
        await crash_while_running(worker, token, attempt - 1)
        assert calls[token] == attempt
        row = await job_row(job_shards, job_id)
        assert row is not None
        assert row.attempts == attempt
        worker_clock.move_past(row.locked_until)

    # Two attempts spent (both died): the job must not be handed to a third worker.
    await crash_while_running(worker, token, 2)
    assert calls[token] == 2, "a job ran more than max_attempts times"
    row = await job_row(job_shards, job_id)
    assert row is not None
    assert row.failed_at is not None
