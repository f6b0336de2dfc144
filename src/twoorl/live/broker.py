"""Publish/subscribe for live events.

``LocalBroker`` delivers within one process (the embedded default). ``RedisBroker`` publishes
through Redis and every app process relays what it hears to its own subscribers, so a post
made through one process reaches a stream held open by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)
QUEUE_SIZE = 256
REDIS_PREFIX = "twoorl:live:"


class LocalBroker:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.deliver(channel, event)

    def deliver(self, channel: str, event: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                continue  # a stalled reader loses live events, never blocks the publisher
            queue.put_nowait({**event, "channel": channel})

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        for channel in channels:
            self._queues[channel].add(queue)
        try:
            yield queue
        finally:
            for channel in channels:
                self._queues[channel].discard(queue)
                if not self._queues[channel]:
                    del self._queues[channel]


class RedisBroker(LocalBroker):
    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="twoorl-live-redis")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._redis.publish(REDIS_PREFIX + channel, json.dumps(event))

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(REDIS_PREFIX + "*")
                    async for message in pubsub.listen():
                        if message["type"] != "pmessage":
                            continue
                        channel = message["channel"].decode().removeprefix(REDIS_PREFIX)
                        self.deliver(channel, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lost the Redis live-event subscription; reconnecting")
                await asyncio.sleep(1)


def build_broker(redis_url: str | None) -> LocalBroker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()
