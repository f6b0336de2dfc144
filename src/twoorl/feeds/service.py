"""Gathering a feed's entries from the timelines: the newest ``FEED_SIZE`` posts, reposts
left out (and, for the friends feed, the owner's own posts), as ``timelines.visible`` shows
them to a reader who is signed out (the friends feed: to its owner)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from twoorl import i18n
from twoorl.accounts.models import Account
from twoorl.feeds.models import Feed, FeedEntry, profile_url
from twoorl.i18n import _
from twoorl.i18n.negotiation import from_accept_language
from twoorl.ids import EPOCH_MS
from twoorl.posts.models import Post
from twoorl.storage.shards import ShardSet
from twoorl.timelines import service as timelines
from twoorl.timelines.paging import PageFetcher, PageRequest, page_until_full
from twoorl.timelines.visible import visible

FEED_SIZE = 20
# Last-Modified of the everyone-feed before anyone has posted: the id epoch.
ID_EPOCH = datetime.fromtimestamp(EPOCH_MS / 1000, tz=UTC)


def choose_locale(requested: str | None) -> tuple[str, bool]:
    """The locale for ``?lang=`` (``de``, ``pt-BR``, ``pt_br``, ``de-AT``...) and whether the
    request named one we have. Nothing else counts, not even the reader's cookie or
    Accept-Language: a feed is cached publicly, so its words depend on its URL alone."""
    found = from_accept_language(requested[:40]) if requested else None
    return (found, True) if found else (i18n.DEFAULT_LOCALE, False)


async def public_feed(shards: ShardSet, *, base_url: str, lang: str, lang_chosen: bool) -> Feed:
    entries = await _entries(
        shards, lambda request: timelines.public(shards, request), _is_post, base_url
    )
    return Feed(
        title=_("Twoorl: everyone's posts"),
        base_url=base_url,
        path="/public",
        home_page_url=f"{base_url}/public",
        entries=entries,
        empty_since=ID_EPOCH,
        lang=lang,
        lang_chosen=lang_chosen,
    )


async def user_feed(
    shards: ShardSet, account: Account, *, base_url: str, lang: str, lang_chosen: bool
) -> Feed:
    entries = await _entries(
        shards, lambda request: timelines.by_author(shards, account.id, request), _is_post, base_url
    )
    return Feed(
        title=_("Posts by %(name)s") % {"name": account.name},
        base_url=base_url,
        path=f"/@{account.username}",
        home_page_url=profile_url(base_url, account),
        entries=entries,
        empty_since=account.created_at,
        lang=lang,
        lang_chosen=lang_chosen,
        owner=account,
    )


async def friends_feed(
    shards: ShardSet, account: Account, *, base_url: str, lang: str, lang_chosen: bool
) -> Feed:
    """What the people ``account`` follows posted: the home timeline without the owner's
    own posts (they have their own feed) and without reposts."""

    def keep(post: Post) -> bool:
        return _is_post(post) and post.author_id != account.id

    entries = await _entries(
        shards,
        lambda request: timelines.home(shards, account.id, request),
        keep,
        base_url,
        reader=account,
    )
    return Feed(
        title=_("Posts by people %(name)s follows") % {"name": account.name},
        base_url=base_url,
        path=f"/@{account.username}/friends",
        home_page_url=f"{profile_url(base_url, account)}/following",
        entries=entries,
        empty_since=account.created_at,
        lang=lang,
        lang_chosen=lang_chosen,
        owner=account,
    )


def _is_post(post: Post) -> bool:
    return not post.is_repost


async def _entries(
    shards: ShardSet,
    fetch: PageFetcher,
    keep: Callable[[Post], bool],
    base_url: str,
    reader: Account | None = None,
) -> list[FeedEntry]:
    """The newest FEED_SIZE posts that pass ``keep``, as ``reader`` sees them (feeds are
    public documents: signed out, except a friends feed, which is its owner's home)."""
    page = await page_until_full(fetch, PageRequest(limit=FEED_SIZE), keep)
    seen = await visible(shards, page.posts, reader)
    return [FeedEntry(post=view.post, author=view.author, base_url=base_url) for view in seen.posts]
