"""The job worker's CPU per post job: 4 fresh PostgreSQL shards and Redis, 300 demo people
(``twoorl demo-data``), N posts by 40 of them (a third with a mention), then the worker
drains their jobs in this process; prints CPU ms per job (``time.process_time``).
``PROFILE=1`` adds a cProfile of the drain (its overhead inflates the figure).

    uv run python benchmarks/worker_jobs.py 400
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import time

import asyncpg

DATABASES = [f"wprof_{i}" for i in range(4)]
URLS = [f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}" for name in DATABASES]
ENV = {
    "TWOORL_SHARDS": ",".join(URLS),
    "TWOORL_REDIS_URL": "redis://127.0.0.1:6379/0",
    "TWOORL_REDIS_PREFIX": "wprof:",
    "TWOORL_SECRET_KEY": "benchmark-only-" * 3,
}


def prepare() -> None:
    """Fresh databases, migrated and filled (before the event loop: these block)."""

    async def recreate() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        for name in DATABASES:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(recreate())
    os.environ.update(ENV)
    demo = ["demo-data", "--users", "300", "--follows-per-user", "30", "--seed", "1"]
    for command in (["migrate"], demo):
        subprocess.run(["uv", "run", "--frozen", "twoorl", *command], check=True)


async def measure(posts: int) -> None:
    from twoorl.accounts import service as accounts
    from twoorl.runtime import actions
    from twoorl.runtime.services import Services
    from twoorl.settings import load_settings

    svc = Services.build(load_settings())
    await svc.broker.start()
    people = [await accounts.get_by_username(svc.shards, f"demo{i}") for i in range(1, 41)]
    await svc.worker.drain()
    for i in range(posts):
        text = f"hello @demo{(i * 7) % 300 + 1} number {i}" if i % 3 == 0 else f"plain post {i}"
        await actions.create_post(svc, people[i % len(people)], text)
    profile = cProfile.Profile() if os.environ.get("PROFILE") else None
    started = time.process_time()
    if profile:
        profile.enable()
    await svc.worker.drain()
    if profile:
        profile.disable()
    cpu = time.process_time() - started
    print(f"worker CPU per post job: {cpu / posts * 1000:.2f} ms")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
    await svc.broker.stop()
    await svc.shards.dispose()


if __name__ == "__main__":
    prepare()
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
