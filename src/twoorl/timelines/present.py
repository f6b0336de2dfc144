"""Turning timeline entries into what a page shows: reposts resolved to their originals,
authors attached, reaction counts and the viewer's own likes and reposts, and each post at
most once per page (several people you follow may repost the same thing)."""

from __future__ import annotations

from collections.abc import Iterable

from twoorl.accounts import service as accounts
from twoorl.graph.blocks import hidden_ids
from twoorl.posts.models import Post, PostView
from twoorl.posts.service import get_posts
from twoorl.reactions.service import reactions_for
from twoorl.storage.shards import ShardSet


async def present(
    shards: ShardSet,
    entries: Iterable[Post],
    viewer_id: int | None = None,
    *,
    keep_author_id: int | None = None,
) -> list[PostView]:
    """``viewer_id``'s muted and blocked people's posts, and reposts by or of them, are left
    out (except ``keep_author_id``'s: their own profile, a thread's focus). Pages may come out
    shorter; their cursors come from the unfiltered page."""
    entries = list(entries)
    hidden = await hidden_ids(shards, viewer_id) - {keep_author_id}
    originals = await get_posts(shards, [e.repost_of_id for e in entries if e.repost_of_id])
    shown: list[tuple[Post, Post]] = []  # (entry, the post whose words it shows)
    seen: set[int] = set()
    for entry in entries:
        content = originals.get(entry.repost_of_id) if entry.is_repost else entry
        if content is None or content.id in seen:
            continue  # a repost of a deleted post, or shown already higher on the page
        if entry.author_id in hidden or content.author_id in hidden:
            continue  # muted or blocked by the viewer: their posts, reposts by and of them
        seen.add(content.id)
        shown.append((entry, content))
    people = await accounts.get_many(
        shards,
        [c.author_id for _, c in shown]
        + [e.author_id for e, _ in shown]
        + [c.in_reply_to_account_id for _, c in shown if c.in_reply_to_account_id],
    )
    reactions = await reactions_for(shards, seen, viewer_id)
    return [
        PostView(
            post=content,
            author=people[content.author_id],
            in_reply_to=people.get(content.in_reply_to_account_id or 0),
            reposted_by=people.get(entry.author_id) if entry.is_repost else None,
            entry_id=entry.id,
            reactions=reactions[content.id],
        )
        for entry, content in shown
        if content.author_id in people
        and (not entry.is_repost or entry.author_id in people)
        # Suspended accounts' posts leave every timeline, reposts of them included.
        and not people[content.author_id].suspended
        and not (entry.is_repost and people[entry.author_id].suspended)
    ]
