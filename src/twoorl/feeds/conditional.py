"""Conditional GET (RFC 9110 §13): is the copy the client holds still the current one?"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: datetime
) -> bool:
    """If-None-Match wins when present (weak comparison); If-Modified-Since is consulted only
    without it, at the one-second resolution of HTTP dates."""
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")
