"""What a person does, with everything that must follow at once, shared by the HTML pages
and the JSON API: the domain write, the cached home timelines kept right, and the job worker
woken (instead of waiting for its next poll)."""

from __future__ import annotations

from twoorl.accounts.models import Account
from twoorl.graph import service as graph
from twoorl.posts import service as posts
from twoorl.posts.models import Post
from twoorl.reactions import service as reactions
from twoorl.timelines import fanout
from twoorl.web.services import Services


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
