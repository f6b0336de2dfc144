"""The objects a running process shares: built once in ``create_app`` for the web and API,
and in the CLI for workers, from the same settings (timeouts, pool sizes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.templating import Jinja2Templates
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from twoorl.accounts.passwords import Passwords
from twoorl.caching.changes import RedisChangeFeed
from twoorl.jobs.worker import Worker
from twoorl.live.broker import LocalBroker, build_broker
from twoorl.settings import Settings
from twoorl.storage.shards import ShardSet
from twoorl.timelines.cache import HomeTimelines


@dataclass
class Services:
    settings: Settings
    shards: ShardSet
    passwords: Passwords
    worker: Worker
    broker: LocalBroker
    templates: Jinja2Templates | None
    rate_limiter: MovingWindowRateLimiter
    # Fan-out home timelines in Redis; None on the embedded default (fan-in only).
    timelines: HomeTimelines | None = None
    # The Redis connections behind the rate limiter, when limits are counted there.
    rate_limit_pool: Any = None

    async def close_rate_limiter(self) -> None:
        if self.rate_limit_pool is not None:
            await self.rate_limit_pool.disconnect()

    @classmethod
    def build(cls, settings: Settings, templates: Jinja2Templates | None = None) -> Services:
        shards = build_shards(settings)
        broker = build_broker(settings.redis_url)
        timelines = build_timelines(settings, shards)
        rate_limiter, rate_limit_pool = build_rate_limiter(settings)
        return cls(
            settings=settings,
            shards=shards,
            passwords=Passwords(settings.password_hash_profile),
            worker=build_worker(settings, shards, broker, timelines),
            broker=broker,
            templates=templates,
            rate_limiter=rate_limiter,
            rate_limit_pool=rate_limit_pool,
            timelines=timelines,
        )


def build_shards(settings: Settings) -> ShardSet:
    """The databases, with the same read timeout and pool size in every kind of process,
    and the change feed that keeps their caches right: Redis when there is one."""
    shards = ShardSet(
        settings.shard_urls,
        timeout=settings.shard_timeout_seconds,
        pool_size=settings.db_pool_size,
    )
    if settings.redis_url:
        shards.feed = RedisChangeFeed.from_url(settings.redis_url, prefix=settings.redis_prefix)
    return shards


def build_rate_limiter(settings: Settings) -> tuple[MovingWindowRateLimiter, Any]:
    """Limits counted in Redis when there is one, so every process of a cluster shares them
    (in memory, each of N processes would allow N times the limit). Returns the limiter and
    the Redis connection pool to close on shutdown (None in memory)."""
    if not settings.redis_url:
        return MovingWindowRateLimiter(MemoryStorage()), None
    import redis.asyncio

    pool = redis.asyncio.ConnectionPool.from_url(settings.redis_url)
    storage = RedisStorage(
        "async+" + settings.redis_url,
        implementation="redispy",
        key_prefix=settings.redis_prefix + "limits",
        connection_pool=pool,
    )
    return MovingWindowRateLimiter(storage), pool


def build_timelines(settings: Settings, shards: ShardSet) -> HomeTimelines | None:
    """The fan-out timelines in Redis (None without Redis), hooked to ``shards``' commits
    so that a deleted post's copy there goes before any process hears of the delete."""
    if not settings.redis_url:
        return None
    timelines = HomeTimelines.from_url(
        settings.redis_url,
        prefix=settings.redis_prefix,
        cap=settings.timeline_cap,
        active_seconds=round(settings.fanout_active_days * 86_400),
        max_followers=settings.fanout_max_followers,
    )
    shards.commit_hooks.append(timelines.forget_changed_posts)
    return timelines


def build_worker(
    settings: Settings,
    shards: ShardSet,
    broker: LocalBroker,
    timelines: HomeTimelines | None = None,
) -> Worker:
    return Worker(
        shards,
        broker=broker,
        timelines=timelines,
        max_attempts=settings.job_max_attempts,
        lease=timedelta(seconds=settings.job_lease_seconds),
    )
