"""Posts as stored, and as shown (with their author)."""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(timestamp_ms_of(self.id) / 1000, tz=UTC)

    @classmethod
    def from_row(cls, row: Row) -> Post:
        return cls(row.id, row.author_id, row.text, row.in_reply_to_id, row.in_reply_to_account_id)


@dataclass(frozen=True)
class PostView:
    """A post ready to show: the post, its author and, for replies, who it answers."""

    post: Post
    author: Account
    in_reply_to: Account | None = None

    @property
    def id(self) -> int:
        return self.post.id

    @cached_property
    def html(self) -> Markup:
        return render_html(self.post.text)
