"""Writing jobs: always on the caller's connection, inside the caller's transaction, so the
change and the work it implies commit (or vanish) together."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from twoorl.ids import logical_shard_of, new_id
from twoorl.jobs.tables import jobs
from twoorl.storage.types import utcnow

WAKE_CHANNEL = "twoorl_jobs"
# Built once (the row's values are parameters): every write that implies work runs these.
INSERT_JOB = insert(jobs)
WAKE_WORKERS = text(f"SELECT pg_notify('{WAKE_CHANNEL}', '')")


async def enqueue(
    conn: AsyncConnection, kind: str, payload: Mapping[str, object], *, owner_id: int
) -> int:
    """Queue ``kind`` on the shard of ``conn``; ``owner_id`` is the id whose shard that is."""
    job_id = new_id(logical_shard_of(owner_id))
    row = {
        "id": job_id,
        "kind": kind,
        "payload": json.dumps(payload, separators=(",", ":")),
        "run_after": utcnow(),
    }
    await conn.execute(INSERT_JOB, row)
    if conn.dialect.name == "postgresql":
        # Delivered at commit: wakes idle workers in other processes at once.
        await conn.execute(WAKE_WORKERS)
    return job_id
