"""What the live events mean, shared by the web page streams and the API's streaming."""

from __future__ import annotations

from typing import Any

from twoorl.storage.shards import ShardSet


def shared_post(event: dict[str, Any]) -> bool:
    """A new post (not a repost) for the public and tag streams: not a spammer's or a
    suspended person's (``shared`` is set when the post is published; older events lack it)."""
    return event.get("type") == "post" and not event.get("repost") and event.get("shared", True)


async def catch_up_for(shards: ShardSet, event: dict[str, Any]) -> None:
    """An open stream outlives the request that read the change feed: read it again before
    acting on an event, at once after a follows event (a mute, a block), else at most once
    a second."""
    await shards.catch_up(max_age=0.0 if event.get("type") == "follows" else 1.0)
