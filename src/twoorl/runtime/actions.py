"""The use cases: what a person does, with everything that must follow at once, shared by
the pages, the API and the command line: the domain write (its rules live in the domain
service), the cached home timelines kept right, the job worker woken (instead of waiting for
its next poll), and live streams told."""

from __future__ import annotations

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.errors import NotFound
from twoorl.graph import service as graph
from twoorl.i18n import _
from twoorl.moderation import service as moderation
from twoorl.posts import service as posts
from twoorl.posts.models import Post
from twoorl.reactions import service as reactions
from twoorl.runtime.services import Services
from twoorl.timelines import fanout


async def create_post(
    svc: Services,
    author: Account,
    text: str,
    *,
    in_reply_to_id: int | None = None,
    idempotency_key: str | None = None,
) -> Post:
    post = await posts.create_post(
        svc.shards,
        author,
        text,
        max_length=svc.settings.max_post_length,
        in_reply_to_id=in_reply_to_id,
        idempotency_key=idempotency_key,
    )
    svc.worker.wake()
    return post


async def delete_post(svc: Services, actor: Account, post_id: int) -> Post:
    post = await posts.delete_post(svc.shards, actor, post_id)
    await fanout.deleted(svc.timelines, post.id)
    svc.worker.wake()
    # Live streams (the API's ``delete`` event) drop it from screens that show it.
    await svc.broker.publish(
        "deletes", {"type": "delete", "post_id": post.id, "author_id": post.author_id}
    )
    return post


async def remove_post(svc: Services, moderator: Account, post_id: int, reason: str) -> Post:
    """A moderator deletes someone's post: the same delete as the author's own (timelines,
    caches, live streams follow), then the audit entry."""
    post = await posts.get_post(svc.shards, post_id)
    author = await accounts.get_by_id(svc.shards, post.author_id) if post else None
    if post is None or author is None:
        raise NotFound(_("That post does not exist, or it was deleted."))
    moderation.check_outranks(moderator, author)
    await delete_post(svc, author, post.id)
    await moderation.record_post_removal(svc.shards, moderator, author, post.id, reason)
    return post


async def follow(svc: Services, follower: Account, followee: Account) -> None:
    await graph.follow(svc.shards, follower, followee)
    # Now, not only in the job: the next home page shows the new followee's older posts.
    await fanout.followed(svc.timelines, follower.id)
    svc.worker.wake()


async def unfollow(svc: Services, follower: Account, followee: Account) -> None:
    await graph.unfollow(svc.shards, follower, followee)
    await fanout.unfollowed(svc.timelines, follower.id, followee.id)
    svc.worker.wake()


REACTIONS = {
    "like": reactions.like,
    "unlike": reactions.unlike,
    "repost": reactions.repost,
    "unrepost": reactions.unrepost,
}


async def react(svc: Services, actor: Account, action: str, post_id: int) -> Post:
    """Like, unlike, repost or undo a repost; returns the original post."""
    post = await REACTIONS[action](svc.shards, actor, post_id)
    svc.worker.wake()
    return post


async def block(svc: Services, blocker: Account, target: Account) -> None:
    """Block: the follows both ways go (the blocker's now, the target's by a job)."""
    await graph.block(svc.shards, blocker, target)
    await fanout.unfollowed(svc.timelines, blocker.id, target.id)
    svc.worker.wake()
    await _hidden_changed(svc, blocker)


async def unblock(svc: Services, blocker: Account, target: Account) -> None:
    await graph.unblock(svc.shards, blocker, target)
    svc.worker.wake()
    await _hidden_changed(svc, blocker)


async def mute(svc: Services, muter: Account, target: Account) -> None:
    """Mute: hidden at read time (timelines, notifications), so nothing else changes."""
    await graph.mute(svc.shards, muter, target)
    await _hidden_changed(svc, muter)


async def unmute(svc: Services, muter: Account, target: Account) -> None:
    await graph.unmute(svc.shards, muter, target)
    await _hidden_changed(svc, muter)


async def _hidden_changed(svc: Services, account: Account) -> None:
    # Open home streams of this person reload whose posts they announce.
    await svc.broker.publish(f"follows:{account.id}", {"type": "follows"})
