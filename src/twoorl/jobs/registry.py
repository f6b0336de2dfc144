"""Job kinds and their handlers. Handlers must be idempotent: a job runs at least once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from twoorl.live.broker import LocalBroker
from twoorl.storage.shards import ShardSet
from twoorl.timelines.cache import HomeTimelines


@dataclass(frozen=True)
class JobContext:
    shards: ShardSet
    broker: LocalBroker
    # Fan-out home timelines; None without Redis.
    timelines: HomeTimelines | None = None


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if kind in _handlers and _handlers[kind] is not func:
            raise ValueError(f"two handlers for job kind {kind!r}")
        _handlers[kind] = func
        return func

    return register


def handler_for(kind: str) -> Handler:
    load_all_handlers()
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no handler for job kind {kind!r}") from None


def load_all_handlers() -> None:
    from twoorl.graph import jobs as _graph  # noqa: F401
    from twoorl.moderation import jobs as _moderation  # noqa: F401
    from twoorl.posts import jobs as _posts  # noqa: F401
    from twoorl.reactions import jobs as _reactions  # noqa: F401
