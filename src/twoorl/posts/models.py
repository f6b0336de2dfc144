"""Posts as stored, and as shown (with their author)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from markupsafe import Markup
from sqlalchemy import Row

from twoorl.accounts.models import Account
from twoorl.ids import timestamp_ms_of
from twoorl.posts.text import render_html


@dataclass(frozen=True)
class Post:
    id: int
    author_id: int
    text: str
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    repost_of_id: int | None = None
    repost_of_account_id: int | None = None

    @property
    def is_repost(self) -> bool:
        return self.repost_of_id is not None

    @property
    def content_id(self) -> int:
        """The post whose words these are: the original, for a repost."""
        return self.repost_of_id or self.id

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(timestamp_ms_of(self.id) / 1000, tz=UTC)

    @classmethod
    def from_row(cls, row: Row) -> Post:
        return cls(
            row.id,
            row.author_id,
            row.text,
            row.in_reply_to_id,
            row.in_reply_to_account_id,
            row.repost_of_id,
            row.repost_of_account_id,
        )


@dataclass(frozen=True)
class Reactions:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    liked: bool = False  # by the viewer
    reposted: bool = False  # by the viewer


@dataclass(frozen=True)
class PostView:
    """A post ready to show: the post (the original, for a repost), its author, who it
    answers, who reposted it into this timeline, and its reaction counts."""

    post: Post
    author: Account
    in_reply_to: Account | None = None
    reposted_by: Account | None = None
    entry_id: int = 0  # the timeline entry (the repost's own id), for cursors
    reactions: Reactions = field(default_factory=Reactions)
    mentions: tuple[Account, ...] = ()  # the people its @mentions name who exist

    @property
    def id(self) -> int:
        return self.post.id

    @cached_property
    def html(self) -> Markup:
        return render_html(self.post.text)
