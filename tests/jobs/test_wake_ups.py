"""A running worker is woken by the shard that queued a job (PostgreSQL's NOTIFY) and claims
there only: on a cluster, one post must not cost every worker loop a claim on every shard.
The poll interval is far longer than the test waits, so only the wake-up can run the job."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from statement_counter import counting
from twoorl.ids import new_owner_id
from twoorl.jobs.outbox import enqueue
from twoorl.jobs.registry import JobContext, handles
from twoorl.jobs.tables import jobs
from twoorl.jobs.worker import Worker
from twoorl.storage.shards import ShardSet

pytestmark = pytest.mark.parametrize("shard_urls", ["postgres3"], indirect=True)

ran: Counter[str] = Counter()


@handles("test.wake.noted")
async def _noted(_ctx: JobContext, payload: dict[str, Any]) -> None:
    ran[payload["token"]] += 1


async def test_a_worker_claims_only_on_the_shard_that_woke_it(shard_urls) -> None:
    shards = ShardSet(shard_urls)
    worker = Worker(shards, poll_interval=3600)
    loop = asyncio.create_task(worker.run_forever(concurrency=2))
    try:
        await asyncio.sleep(1.0)  # the listeners connect; their first pass finds nothing
        token, owner_id = uuid.uuid4().hex, new_owner_id()
        home = shards.for_id(owner_id)
        with counting(shards) as counts:
            async with home.write() as conn:
                await enqueue(conn, "test.wake.noted", {"token": token}, owner_id=owner_id)
            for _ in range(100):
                if ran[token]:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # and the passes that follow it
        assert ran[token] == 1
        others = {i: n for i, n in counts.by_shard.items() if i != home.index and n}
        assert others == {}, counts.report()
        async with home.read() as conn:
            assert (await conn.execute(select(jobs.c.id))).all() == []
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await shards.dispose()
