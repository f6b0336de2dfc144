"""What the live events mean, shared by the web page streams and the API's streaming."""

from __future__ import annotations

from typing import Any


def shared_post(event: dict[str, Any]) -> bool:
    """A new post (not a repost) for the public and tag streams: not a spammer's or a
    suspended person's (``shared`` is set when the post is published; older events lack it)."""
    return event.get("type") == "post" and not event.get("repost") and event.get("shared", True)
