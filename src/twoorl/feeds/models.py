"""A feed as the formats see it: a title, where it lives, and its entries, newest first."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from twoorl.accounts.models import Account
from twoorl.posts.models import Post

FeedFormat = Literal["rss", "atom", "json"]
FORMATS: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def profile_url(base_url: str, account: Account) -> str:
    return f"{base_url}/@{account.username}"


@dataclass(frozen=True)
class FeedEntry:
    post: Post
    author: Account
    base_url: str

    @property
    def url(self) -> str:
        """The post's permalink; also the entry's id in every format."""
        return f"{profile_url(self.base_url, self.author)}/{self.post.id}"

    @property
    def author_url(self) -> str:
        return profile_url(self.base_url, self.author)

    @property
    def published(self) -> datetime:
        return self.post.created_at


@dataclass(frozen=True)
class Feed:
    """``path`` is the feed's address without the format suffix (``/public``, ``/@alice``,
    ``/@alice/friends``); ``home_page_url`` the HTML page it mirrors; ``lang`` the locale its
    title is written in, and ``lang_chosen`` whether the request asked for it."""

    title: str
    base_url: str
    path: str
    home_page_url: str
    entries: list[FeedEntry]
    empty_since: datetime  # what "last modified" means for a feed with no entries
    lang: str
    lang_chosen: bool = False
    owner: Account | None = None

    @property
    def updated(self) -> datetime:
        return self.entries[0].published if self.entries else self.empty_since

    def id_url(self, fmt: str) -> str:
        """Stable across languages: the feed's address without a query."""
        return f"{self.base_url}{self.path}.{fmt}"

    def self_url(self, fmt: str) -> str:
        query = f"?lang={self.lang}" if self.lang_chosen else ""
        return self.id_url(fmt) + query

    def etag(self, fmt: str) -> str:
        """Changes whenever the body would: a new or deleted entry, a renamed author, another
        language, format or base URL."""
        fingerprint = json.dumps(
            [
                fmt,
                self.lang,
                self.lang_chosen,
                self.base_url,
                self.title,
                len(self.entries),
                [(e.post.id, e.author.username, e.author.name) for e in self.entries],
            ],
            ensure_ascii=False,
        )
        return '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
