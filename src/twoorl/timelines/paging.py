"""Id-cursor pages, shared by every timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from twoorl.ids import MAX_ID
from twoorl.posts.models import Post

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 40


@dataclass(frozen=True)
class PageRequest:
    """An id-cursor page: items with ``since_id`` < id < ``max_id``, newest first."""

    max_id: int | None = None
    since_id: int | None = None
    limit: int = DEFAULT_PAGE_SIZE

    @property
    def upper(self) -> int:
        return self.max_id if self.max_id is not None else MAX_ID

    @property
    def lower(self) -> int:
        return self.since_id if self.since_id is not None else 0


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    request: PageRequest
    has_more: bool = field(default=False)

    @property
    def next_max_id(self) -> int | None:
        """The cursor for the next (older) page, or None at the end."""
        return self.posts[-1].id if self.has_more and self.posts else None


def page_of(found: list[Post], request: PageRequest) -> Page:
    # Each query asks for one extra item, so "is there an older page?" costs nothing more.
    return Page(found[: request.limit], request, has_more=len(found) > request.limit)
