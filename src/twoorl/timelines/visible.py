"""What a viewer sees of a list of timeline entries: the one read model behind every surface.

Pages, the Mastodon API, feeds, search and live streams all hand their entries (posts and
reposts, newest first) to :func:`visible` and only format what it returns. The rules live
here and nowhere else:

- a repost shows its original; a repost of a deleted post shows nothing;
- each original at most once per list (several people may repost it);
- the viewer's muted and blocked people, and those who blocked the viewer, are left out,
  as are reposts by and of them, except ``keep_author_id`` (a profile's owner, a thread's
  focus); a moderator is never kept from someone who blocked them;
- suspended people's posts, and reposts by or of them, are left out for everyone.

Spam is a property of the shared timelines (public, tags, search) and is kept out of them in
SQL (``posts.hidden``), so their pages stay full; a spammer's profile and their followers'
home timelines still show them.

Everything a list needs is loaded in two rounds, each one statement per shard that holds
some of it, run concurrently: first what the entries point at (originals of reposts, the
viewer's hidden people), then everything about those posts (authors and mentioned people,
reaction counts and the viewer's own, and on request the accounts' counters).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account, Counts
from twoorl.graph.blocks import hidden_ids
from twoorl.moderation.roles import is_moderator
from twoorl.posts.models import Post, PostView
from twoorl.posts.service import get_posts
from twoorl.posts.text import mentioned_usernames
from twoorl.reactions.service import reactions_for
from twoorl.storage.shards import ShardSet

AccountStats = tuple[Counts, int | None]  # counters and newest post id


@dataclass(frozen=True)
class Seen:
    """The posts a viewer sees, in order, and everyone they refer to."""

    posts: list[PostView]
    accounts: dict[int, Account] = field(default_factory=dict)
    # Counters and newest post of each author and reposter, when asked for.
    stats: dict[int, AccountStats] = field(default_factory=dict)


async def hidden_from(shards: ShardSet, viewer: Account | None) -> frozenset[int]:
    """The people whose posts ``viewer`` does not see. A moderator keeps seeing the people
    who blocked them (a spammer cannot blind the moderators), not those they muted."""
    if viewer is None:
        return frozenset()
    hidden = await hidden_ids(shards, viewer.id, include_blockers=not is_moderator(viewer))
    return hidden - {viewer.id}


async def visible(
    shards: ShardSet,
    entries: Iterable[Post],
    viewer: Account | None,
    *,
    keep_author_id: int | None = None,
    hide: bool = True,
    account_stats: bool = False,
) -> Seen:
    """The entries as ``viewer`` (None: signed out) sees them. ``hide=False`` applies only
    the rules that hold for everyone (a post asked for by id, a notification's post)."""
    entries = list(entries)
    viewer_id = viewer.id if viewer else None
    hidden_task = hidden_from(shards, viewer) if hide else _nothing_hidden()
    hidden, originals = await asyncio.gather(
        hidden_task, get_posts(shards, [e.repost_of_id for e in entries if e.repost_of_id])
    )
    hidden = hidden - {keep_author_id}

    shown: list[tuple[Post, Post]] = []  # (entry, the post whose words it shows)
    seen: set[int] = set()
    for entry in entries:
        content = originals.get(entry.repost_of_id) if entry.is_repost else entry
        if content is None or content.id in seen:
            continue  # a repost of a deleted post, or shown already higher in the list
        if entry.author_id in hidden or content.author_id in hidden:
            continue
        seen.add(content.id)
        shown.append((entry, content))

    people_ids = {e.author_id for e, _ in shown} | {c.author_id for _, c in shown}
    reply_ids = {c.in_reply_to_account_id for _, c in shown if c.in_reply_to_account_id}
    usernames = {name.lower() for _, c in shown for name in mentioned_usernames(c.text)}
    people, reactions, stats = await asyncio.gather(
        accounts.get_many_with_usernames(shards, people_ids | reply_ids, usernames),
        reactions_for(shards, seen, viewer_id),
        accounts.stats_for_many(shards, people_ids) if account_stats else _no_stats(),
    )
    by_username = {person.username.lower(): person for person in people.values()}

    views = []
    for entry, content in shown:
        author = people.get(content.author_id)
        reposter = people.get(entry.author_id) if entry.is_repost else None
        if author is None or author.suspended:
            continue  # suspended accounts' posts leave every timeline
        if entry.is_repost and (reposter is None or reposter.suspended):
            continue
        views.append(
            PostView(
                post=content,
                author=author,
                in_reply_to=people.get(content.in_reply_to_account_id or 0),
                reposted_by=reposter,
                entry_id=entry.id,
                reactions=reactions[content.id],
                mentions=_mentioned(content.text, by_username),
            )
        )
    return Seen(views, people, stats)


def _mentioned(text: str, by_username: dict[str, Account]) -> tuple[Account, ...]:
    found: dict[int, Account] = {}
    for name in mentioned_usernames(text):
        person = by_username.get(name.lower())
        if person is not None:
            found.setdefault(person.id, person)
    return tuple(found.values())


async def _nothing_hidden() -> frozenset[int]:
    return frozenset()


async def _no_stats() -> dict[int, AccountStats]:
    return {}
