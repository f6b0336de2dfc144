"""Likes and reposts over HTTP on every backend: the buttons and counts people see, the rows
on the reactor's and the post's shards, timelines with reposts, and who may undo what."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx
import pytest
from sqlalchemy import select
from web_support import account_id, send

from conftest import post_ids
from twoorl.ids import compose, timestamp_ms_of
from twoorl.jobs.tables import jobs
from twoorl.notifications.tables import notifications
from twoorl.posts.tables import posts
from twoorl.reactions import service as reactions_service
from twoorl.reactions.tables import likes, post_counters, post_likes, post_reposts
from twoorl.storage.shards import ShardSet

GONE = "That post does not exist, or it was deleted."
LIKE_RE = re.compile(
    r'<button class="link like( on)?" type="submit" aria-pressed="(true|false)">'
    r"(♥|♡) (Unlike|Like) <span class=\"count\">([\d,]+)</span></button>"
)
REPOST_RE = re.compile(
    r'<button class="link repost( on)?" type="submit" aria-pressed="(true|false)">'
    r"⟲ (Undo repost|Repost) <span class=\"count\">([\d,]+)</span></button>"
)
TALLY_RE = re.compile(r'<span class="tally">(⟲|♡) ([\d,]+)</span>')
REPOSTED_BY_RE = re.compile(
    r'<p class="reposted-by">⟲ Reposted by <a href="/@(\w+)">([^<]+)</a></p>'
)
REPLY_LINK_RE = re.compile(
    r'<a href="/@\w+/(\d+)#reply">Reply( <span class="count">([\d,]+)</span>)?</a>'
)


# --- helpers ---------------------------------------------------------------------------------


async def say_id(shards: ShardSet, person, text: str, reply_to: int | None = None) -> int:
    """Post as ``person`` and return the new post's id (as stored)."""
    before = set(await own_posts(shards, person.username))
    data = {"status": text}
    if reply_to is not None:
        data["in_reply_to_id"] = str(reply_to)
    response = await send(person, "/posts", data)
    assert response.status_code == 303, response.text
    new = [i for i in await own_posts(shards, person.username) if i not in before]
    assert len(new) == 1, new
    return new[0]


async def own_posts(shards: ShardSet, username: str) -> list[int]:
    author = await account_id(shards, username)
    async with shards.for_id(author).read() as conn:
        found = await conn.execute(
            select(posts.c.id)
            .where(posts.c.author_id == author, posts.c.repost_of_id.is_(None))
            .order_by(posts.c.id.desc())
        )
        return list(found.scalars())


async def react(person, action: str, post_id: int | str, next: str = "/"):
    return await send(person, f"/posts/{post_id}/{action}", {"next": next})


async def do(person, action: str, post_id: int, next: str = "/") -> None:
    response = await react(person, action, post_id, next)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{next}#post-{post_id}"


async def rows(shards: ShardSet, table, *where) -> list:
    """Matching rows from every shard."""
    found = []
    for shard in shards.shards:
        async with shard.read() as conn:
            found.extend((await conn.execute(select(table).where(*where))).all())
    return found


async def counter(shards: ShardSet, post_id: int) -> tuple[int, int, int]:
    """(likes, reposts, replies) as stored on the post's shard; zeros without a row."""
    async with shards.for_id(post_id).read() as conn:
        row = (
            await conn.execute(select(post_counters).where(post_counters.c.post_id == post_id))
        ).first()
    return (row.likes, row.reposts, row.replies) if row else (0, 0, 0)


async def reposts_of(shards: ShardSet, post_id: int) -> list:
    """The repost rows (entries in the reposters' timelines) of ``post_id``."""
    return await rows(shards, posts, posts.c.repost_of_id == post_id)


async def repost_id(shards: ShardSet, username: str, post_id: int) -> int:
    reposter = await account_id(shards, username)
    found = [r.id for r in await reposts_of(shards, post_id) if r.author_id == reposter]
    assert len(found) == 1, found
    return found[0]


def article(page: str, post_id: int) -> str:
    """The one <article> for ``post_id`` on the page."""
    found = re.findall(
        rf'<article class="post[^"]*" id="post-{post_id}".*?</article>', page, re.DOTALL
    )
    assert len(found) == 1, f"post {post_id} is shown {len(found)} times"
    return found[0]


def like_button(page: str, post_id: int) -> tuple[str, int]:
    """("Like" or "Unlike", count) from the post's like button; checks it is consistent."""
    match = LIKE_RE.search(article(page, post_id))
    assert match, "no like button"
    on, pressed, heart, label, count = match.groups()
    liked = label == "Unlike"
    assert bool(on) == liked and (pressed == "true") == liked and (heart == "♥") == liked
    return label, int(count.replace(",", ""))


def repost_button(page: str, post_id: int) -> tuple[str, int]:
    match = REPOST_RE.search(article(page, post_id))
    assert match, "no repost button"
    on, pressed, label, count = match.groups()
    reposted = label == "Undo repost"
    assert bool(on) == reposted and (pressed == "true") == reposted
    return label, int(count.replace(",", ""))


def action_of(page: str, post_id: int, kind: str) -> str:
    """Which action the post's like or repost form posts to."""
    match = re.search(
        rf'action="/posts/{post_id}/(\w+)">\s*<input[^>]*>\s*<input[^>]*>\s*'
        rf'<button class="link {kind}',
        article(page, post_id),
    )
    assert match, f"no {kind} form"
    return match.group(1)


def reposted_by(page: str, post_id: int) -> str | None:
    match = REPOSTED_BY_RE.search(article(page, post_id))
    return match.group(1) if match else None


async def no_pending_jobs(shards: ShardSet) -> bool:
    return not await rows(shards, jobs)


def absent_id(existing: int) -> int:
    """A well-formed id on the same logical shard that nobody minted."""
    return compose(timestamp_ms_of(existing) - 1, (existing >> 12) & 1023, 4095)


# --- like and unlike -------------------------------------------------------------------------


async def test_a_like_shows_for_the_liker_and_everyone_else(people, shards):
    alice, bob = await people("alice"), await people("bob")
    visitor = await people()
    post = await say_id(shards, alice, "like me")
    page = (await bob.get("/public")).text
    assert like_button(page, post) == ("Like", 0)
    assert action_of(page, post, "like") == "like"

    response = await react(bob, "like", post, next="/public")
    assert response.status_code == 303
    assert response.headers["location"] == f"/public#post-{post}"

    page = (await bob.get("/public")).text
    assert like_button(page, post) == ("Unlike", 1)
    assert action_of(page, post, "like") == "unlike"
    assert like_button((await bob.get(f"/@alice/{post}")).text, post) == ("Unlike", 1)
    for path in ["/", "/public", "/@alice", f"/@alice/{post}"]:
        assert like_button((await alice.get(path)).text, post) == ("Like", 1), path
    anonymous = article((await visitor.get("/public")).text, post)
    assert TALLY_RE.findall(anonymous) == [("⟲", "0"), ("♡", "1")]

    bob_id = await account_id(shards, "bob")
    assert [(r.account_id, r.post_id) for r in await rows(shards, likes)] == [(bob_id, post)]
    async with shards.for_id(bob_id).read() as conn:  # the liker's record, on the liker's shard
        assert (await conn.execute(select(likes.c.post_id))).scalars().all() == [post]
    async with shards.for_id(post).read() as conn:  # the tally, on the post's shard
        assert (await conn.execute(select(post_likes.c.account_id))).scalars().all() == [bob_id]
    assert await counter(shards, post) == (1, 0, 0)


async def test_liking_twice_counts_once_and_unlike_goes_back_to_zero(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "once is enough")
    await do(bob, "like", post)
    await do(bob, "like", post)
    assert like_button((await bob.get("/public")).text, post) == ("Unlike", 1)
    assert len(await rows(shards, likes)) == 1
    assert len(await rows(shards, post_likes)) == 1
    assert await counter(shards, post) == (1, 0, 0)

    await do(bob, "unlike", post)
    assert like_button((await bob.get("/public")).text, post) == ("Like", 0)
    assert like_button((await alice.get("/public")).text, post) == ("Like", 0)
    assert await rows(shards, likes) == []
    assert await rows(shards, post_likes) == []
    assert await counter(shards, post) == (0, 0, 0)

    await do(bob, "unlike", post)  # unliking what you do not like changes nothing
    assert like_button((await bob.get("/public")).text, post) == ("Like", 0)
    assert await counter(shards, post) == (0, 0, 0)

    await do(bob, "like", post)  # and liking again counts again
    assert like_button((await alice.get("/public")).text, post) == ("Like", 1)
    assert await counter(shards, post) == (1, 0, 0)


async def test_liking_a_repost_likes_the_original(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "the original")
    await do(carol, "repost", post)
    entry = await repost_id(shards, "carol", post)
    assert entry != post

    response = await react(bob, "like", entry, next="/@carol")
    assert response.status_code == 303
    assert response.headers["location"] == f"/@carol#post-{post}"
    assert [r.post_id for r in await rows(shards, likes)] == [post]
    assert [r.post_id for r in await rows(shards, post_likes)] == [post]
    assert await counter(shards, post) == (1, 1, 0)
    assert await counter(shards, entry) == (0, 0, 0)
    assert like_button((await bob.get("/@carol")).text, post) == ("Unlike", 1)
    assert like_button((await alice.get(f"/@alice/{post}")).text, post) == ("Like", 1)

    await do(bob, "unlike", post)  # and unliking through the repost's id too
    await do(bob, "like", post)
    response = await react(bob, "unlike", entry)
    assert response.headers["location"] == f"/#post-{post}"
    assert await rows(shards, likes) == []
    assert await counter(shards, post) == (0, 1, 0)


async def test_reacting_to_a_missing_post_is_404(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "here for a moment")
    doomed = await say_id(shards, alice, "soon gone")
    response = await send(alice, f"/@alice/{doomed}/delete")
    assert response.status_code == 303
    for target in [absent_id(post), doomed, "12abc", "0", "٣"]:
        for action in ["like", "unlike", "repost", "unrepost"]:
            response = await react(bob, action, target)
            assert response.status_code == 404, (target, action)
            assert GONE in response.text, (target, action)
    assert await rows(shards, likes) == []
    assert await rows(shards, post_likes) == []
    assert await reposts_of(shards, doomed) == []
    assert await no_pending_jobs(shards)


async def test_an_unknown_action_is_404(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "just a post")
    for action in ["love", "Like", "likes", "delete"]:
        response = await react(bob, action, post)
        assert response.status_code == 404, action
    assert await rows(shards, likes) == []
    assert await reposts_of(shards, post) == []
    assert await counter(shards, post) == (0, 0, 0)


async def test_anonymous_reactions_go_to_login(people, shards):
    alice = await people("alice")
    post = await say_id(shards, alice, "look but do not touch")
    visitor = await people()
    page = (await visitor.get("/public")).text
    assert f'action="/posts/{post}/like"' not in page
    for action in ["like", "unlike", "repost", "unrepost"]:
        response = await visitor.submit(f"/posts/{post}/{action}", {"next": "/public"})
        assert response.status_code == 303, action
        assert response.headers["location"].startswith("/login"), action
    assert await rows(shards, likes) == []
    assert await reposts_of(shards, post) == []
    assert await counter(shards, post) == (0, 0, 0)


async def test_reactions_need_the_forms_csrf_token(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "guarded")
    await do(bob, "like", post)
    for action in ["like", "unlike", "repost", "unrepost"]:
        for data in [{}, {"csrf_token": "forged"}, {"csrf_token": ""}]:
            response = await bob.client.post(f"/posts/{post}/{action}", data=data)
            assert response.status_code == 403, (action, data)
    assert len(await rows(shards, likes)) == 1  # the forged unlike did not unlike
    assert await reposts_of(shards, post) == []
    assert await counter(shards, post) == (1, 0, 0)


async def test_next_cannot_leave_the_site(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "stay here")
    for bad in ["//evil.example", "https://evil.example/", "/\\evil.example"]:
        response = await react(bob, "like", post, next=bad)
        assert response.status_code == 303
        assert response.headers["location"] == f"/#post-{post}", bad


async def test_concurrent_likes_and_unlikes_keep_the_count_exact(people, shards):
    alice = await people("alice")
    post = await say_id(shards, alice, "popular")
    fans = [await people(f"fan{i}") for i in range(12)]
    for fan in fans:  # each fetches its form token now, so the likes below overlap fully
        await do(fan, "unlike", post)

    responses = await asyncio.gather(*(react(fan, "like", post) for fan in fans))
    assert [r.status_code for r in responses] == [303] * 12
    assert await no_pending_jobs(shards)
    assert await counter(shards, post) == (12, 0, 0)
    assert len(await rows(shards, post_likes, post_likes.c.post_id == post)) == 12
    assert len(await rows(shards, likes, likes.c.post_id == post)) == 12
    assert like_button((await alice.get("/")).text, post) == ("Like", 12)
    assert like_button((await fans[3].get("/public")).text, post) == ("Unlike", 12)

    responses = await asyncio.gather(*(react(fan, "unlike", post) for fan in fans))
    assert [r.status_code for r in responses] == [303] * 12
    assert await no_pending_jobs(shards)
    assert await counter(shards, post) == (0, 0, 0)
    assert await rows(shards, post_likes) == []
    assert await rows(shards, likes) == []
    assert like_button((await alice.get("/")).text, post) == ("Like", 0)


async def test_concurrent_like_and_unlike_by_one_person_converge(people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "make up your mind")
    for _round in range(3):
        await asyncio.gather(react(bob, "like", post), react(bob, "unlike", post))
        assert await no_pending_jobs(shards)
        liked = bool(await rows(shards, likes))
        tally = len(await rows(shards, post_likes))
        assert tally == int(liked)
        assert await counter(shards, post) == (tally, 0, 0)


async def test_concurrent_repost_and_undo_by_one_person_converge(people, shards):
    alice, carol = await people("alice"), await people("carol")
    post = await say_id(shards, alice, "in two minds")
    await do(carol, "unrepost", post)  # fetches the form token before the race
    for _round in range(3):
        await asyncio.gather(react(carol, "repost", post), react(carol, "unrepost", post))
        assert await no_pending_jobs(shards)
        reposted = len(await reposts_of(shards, post))
        assert reposted in (0, 1)
        assert len(await rows(shards, post_reposts)) == reposted
        assert await counter(shards, post) == (0, reposted, 0)
        assert len(await rows(shards, notifications)) == reposted


# --- repost and undo -------------------------------------------------------------------------


async def test_a_repost_reaches_the_reposters_followers_once(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    visitor = await people()
    post = await say_id(shards, alice, "worth sharing")
    await send(bob, "/@carol/follow")  # bob follows carol, not alice
    assert post not in post_ids((await bob.get("/")).text)

    response = await react(carol, "repost", post, next="/public")
    assert response.status_code == 303
    assert response.headers["location"] == f"/public#post-{post}"
    entry = await repost_id(shards, "carol", post)

    home = (await bob.get("/")).text
    assert post_ids(home) == [post]
    assert "worth sharing" in article(home, post)
    assert reposted_by(home, post) == "carol"
    assert f'data-entry-id="{entry}"' in article(home, post)
    assert repost_button(home, post) == ("Repost", 1)

    profile = (await visitor.get("/@carol")).text
    assert post_ids(profile) == [post]
    assert reposted_by(profile, post) == "carol"
    assert TALLY_RE.findall(article(profile, post)) == [("⟲", "1"), ("♡", "0")]
    carol_home = (await carol.get("/")).text
    assert post_ids(carol_home) == [post]
    assert repost_button(carol_home, post) == ("Undo repost", 1)
    assert action_of(carol_home, post, "repost") == "unrepost"

    public = (await visitor.get("/public")).text
    assert post_ids(public) == [post]
    assert reposted_by(public, post) is None
    assert await counter(shards, post) == (0, 1, 0)
    carol_id = await account_id(shards, "carol")
    assert [r.account_id for r in await rows(shards, post_reposts)] == [carol_id]
    assert "Reposted by" not in (await alice.get(f"/@alice/{post}")).text


async def test_undoing_a_repost_takes_it_back(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "changed my mind")
    await send(bob, "/@carol/follow")
    await do(carol, "repost", post)
    assert post_ids((await bob.get("/")).text) == [post]

    await do(carol, "unrepost", post)
    assert post_ids((await bob.get("/")).text) == []
    assert post_ids((await carol.get("/@carol")).text) == []
    assert repost_button((await carol.get("/public")).text, post) == ("Repost", 0)
    assert repost_button((await alice.get("/")).text, post) == ("Repost", 0)
    assert await reposts_of(shards, post) == []
    assert await rows(shards, post_reposts) == []
    assert await counter(shards, post) == (0, 0, 0)
    assert post_ids((await bob.get("/public")).text) == [post]  # the original stays


async def test_reposting_twice_is_one_repost(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "once more")
    await send(bob, "/@carol/follow")
    await do(carol, "repost", post)
    await do(carol, "repost", post)
    entry = await repost_id(shards, "carol", post)
    await react(carol, "repost", entry)  # reposting one's own repost is the same repost
    assert await repost_id(shards, "carol", post) == entry
    assert len(await rows(shards, post_reposts)) == 1
    assert await counter(shards, post) == (0, 1, 0)
    assert post_ids((await bob.get("/")).text) == [post]
    assert repost_button((await carol.get("/")).text, post) == ("Undo repost", 1)


async def test_concurrent_reposts_by_one_person_make_one(people, shards):
    alice, carol = await people("alice"), await people("carol")
    post = await say_id(shards, alice, "all at once")
    await do(carol, "unrepost", post)  # fetches the form token before the race
    responses = await asyncio.gather(*(react(carol, "repost", post) for _ in range(4)))
    assert [r.status_code for r in responses] == [303] * 4
    assert await no_pending_jobs(shards)
    assert len(await reposts_of(shards, post)) == 1
    assert await counter(shards, post) == (0, 1, 0)


async def test_a_post_reposted_by_several_followees_shows_once(people, shards):
    alice, bob, carol, dave = [await people(n) for n in ("alice", "bob", "carol", "dave")]
    for name in ("alice", "bob", "carol"):
        await send(dave, f"/@{name}/follow")
    before = await say_id(shards, bob, "bob's own, older")
    await asyncio.sleep(0.002)  # ids carry milliseconds: keep creation order visible
    post = await say_id(shards, alice, "everyone shares this")
    await asyncio.sleep(0.002)
    await do(bob, "repost", post)
    await asyncio.sleep(0.002)
    await do(carol, "repost", post)
    await asyncio.sleep(0.002)
    after = await say_id(shards, carol, "carol's own, newer")

    home = (await dave.get("/")).text
    shown = post_ids(home)
    assert Counter(shown)[post] == 1, shown
    assert len(shown) == len(set(shown)), shown
    assert shown == [after, post, before]
    assert reposted_by(home, post) in {"bob", "carol"}
    assert repost_button(home, post) == ("Repost", 2)
    assert await counter(shards, post) == (0, 2, 0)

    # Each reposter's profile still shows their own repost.
    for name in ("bob", "carol"):
        profile = (await dave.get(f"/@{name}")).text
        assert Counter(post_ids(profile))[post] == 1
        assert reposted_by(profile, post) == name


async def test_deleting_the_original_removes_its_reposts_and_likes(people, shards):
    alice, bob, carol, dave, erin = [
        await people(n) for n in ("alice", "bob", "carol", "dave", "erin")
    ]
    post = await say_id(shards, alice, "regrettable")
    await asyncio.sleep(0.002)
    keep = await say_id(shards, alice, "fine")
    await asyncio.sleep(0.002)
    for name in ("alice", "bob", "carol"):
        await send(erin, f"/@{name}/follow")
    await do(bob, "repost", post)
    await do(carol, "repost", post)
    await do(dave, "like", post)
    await do(erin, "like", post)
    await do(dave, "like", keep)
    assert post_ids((await erin.get("/")).text) == [post, keep]
    assert await counter(shards, post) == (2, 2, 0)

    response = await send(alice, f"/@alice/{post}/delete")
    assert response.status_code == 303
    assert await no_pending_jobs(shards)
    for who, path in [
        (erin, "/"),
        (bob, "/"),
        (carol, "/"),
        (bob, "/@bob"),
        (erin, "/@carol"),
        (dave, "/public"),
        (alice, "/@alice"),
    ]:
        assert post not in post_ids((await who.get(path)).text), (who.username, path)
    assert post_ids((await erin.get("/")).text) == [keep]
    assert await reposts_of(shards, post) == []
    assert await rows(shards, likes, likes.c.post_id == post) == []
    assert await rows(shards, post_likes, post_likes.c.post_id == post) == []
    assert await rows(shards, post_reposts, post_reposts.c.post_id == post) == []
    assert await rows(shards, post_counters, post_counters.c.post_id == post) == []
    assert await rows(shards, notifications, notifications.c.post_id == post) == []
    # The other post's like is untouched.
    assert [r.post_id for r in await rows(shards, likes)] == [keep]
    assert await counter(shards, keep) == (1, 0, 0)


# --- who may undo a repost -------------------------------------------------------------------


async def test_nobody_else_can_delete_a_repost(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "mine to write, hers to share")
    await do(carol, "repost", post)
    entry = await repost_id(shards, "carol", post)
    for who in (bob, alice):
        response = await send(who, f"/@carol/{entry}/delete")
        assert response.status_code == 403, who.username
    assert await repost_id(shards, "carol", post) == entry
    assert await counter(shards, post) == (0, 1, 0)
    assert post_ids((await bob.get("/@carol")).text) == [post]

    # Naming the original under the reposter's name finds nothing to delete.
    response = await send(bob, f"/@carol/{post}/delete")
    assert response.status_code == 404
    assert post_ids((await alice.get("/@alice")).text) == [post]


async def test_the_reposter_deleting_the_repost_undoes_it(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    post = await say_id(shards, alice, "shared, then unshared")
    await send(bob, "/@carol/follow")
    await do(carol, "repost", post)
    entry = await repost_id(shards, "carol", post)
    assert post_ids((await bob.get("/")).text) == [post]

    response = await send(carol, f"/@carol/{entry}/delete")
    assert response.status_code == 303
    assert await no_pending_jobs(shards)
    assert await reposts_of(shards, post) == []
    assert await rows(shards, post_reposts) == []
    assert await counter(shards, post) == (0, 0, 0)
    assert post_ids((await bob.get("/")).text) == []
    assert repost_button((await carol.get("/public")).text, post) == ("Repost", 0)
    assert await rows(shards, notifications, notifications.c.kind == "repost") == []
    # The original is untouched.
    assert post_ids((await bob.get("/public")).text) == [post]
    assert "shared, then unshared" in (await bob.get(f"/@alice/{post}")).text


# --- replies count ---------------------------------------------------------------------------


def reply_count(page: str, post_id: int) -> int:
    match = REPLY_LINK_RE.search(article(page, post_id))
    assert match and int(match.group(1)) == post_id
    return int(match.group(3).replace(",", "")) if match.group(3) else 0


async def test_the_parent_shows_how_many_replies_it_has(people, shards):
    alice, bob, carol = await people("alice"), await people("bob"), await people("carol")
    parent = await say_id(shards, alice, "ask me anything")
    assert reply_count((await alice.get("/")).text, parent) == 0

    first = await say_id(shards, bob, "@alice why?", reply_to=parent)
    for path in ["/", "/@alice", f"/@alice/{parent}"]:
        assert reply_count((await alice.get(path)).text, parent) == 1, path
    assert await counter(shards, parent) == (0, 0, 1)
    assert reply_count((await alice.get(f"/@alice/{parent}")).text, first) == 0

    await say_id(shards, carol, "@alice how?", reply_to=parent)
    assert reply_count((await bob.get("/public")).text, parent) == 2
    assert await counter(shards, parent) == (0, 0, 2)

    response = await send(bob, f"/@bob/{first}/delete")
    assert response.status_code == 303
    assert reply_count((await bob.get("/public")).text, parent) == 1
    assert await counter(shards, parent) == (0, 0, 1)


# --- a reaction whose job has not run yet when the post is deleted ---------------------------


async def react_without_jobs(app, person, action: str, post_id: int) -> None:
    """React as ``person`` through a browser whose response is not followed by running the
    jobs: the moment, in production, before a worker picks the reaction's job up."""
    token = await person.csrf("/settings")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies=person.client.cookies,
    ) as browser:
        response = await browser.post(f"/posts/{post_id}/{action}", data={"csrf_token": token})
    assert response.status_code == 303, response.text


async def test_deleting_a_post_right_after_a_like_leaves_no_like_behind(app, people, shards):
    alice, bob = await people("alice"), await people("bob")
    post = await say_id(shards, alice, "gone in a moment")  # also fetches alice's form token
    await react_without_jobs(app, bob, "like", post)
    assert len(await rows(shards, likes, likes.c.post_id == post)) == 1
    assert not await no_pending_jobs(shards)

    response = await send(alice, f"/@alice/{post}/delete")
    assert response.status_code == 303
    assert await no_pending_jobs(shards)
    assert await rows(shards, post_likes, post_likes.c.post_id == post) == []
    assert await rows(shards, likes, likes.c.post_id == post) == []


async def test_deleting_a_post_right_after_a_repost_leaves_no_repost_behind(app, people, shards):
    alice, carol = await people("alice"), await people("carol")
    post = await say_id(shards, alice, "gone in a moment")
    await react_without_jobs(app, carol, "repost", post)
    assert len(await reposts_of(shards, post)) == 1

    response = await send(alice, f"/@alice/{post}/delete")
    assert response.status_code == 303
    assert await no_pending_jobs(shards)
    assert await rows(shards, post_reposts, post_reposts.c.post_id == post) == []
    assert await reposts_of(shards, post) == []


@pytest.mark.parametrize(
    ("recent_days", "recent_limit"),
    [(3, 1000), (3, 2), (0, 1000)],
    ids=["recent set", "over the set's limit", "older than the set"],
)
async def test_what_a_person_liked_and_reposted_shows_however_it_is_looked_up(
    people, shards, monkeypatch, recent_days: int, recent_limit: int
):
    """Recent posts are answered from one set per person, which holds at most a limit of
    reactions; older ones (and those the limit left out) one by one. Every path shows the
    same buttons, and an undo shows on the next page."""
    monkeypatch.setattr(reactions_service, "RECENT_DAYS", recent_days)
    monkeypatch.setattr(reactions_service, "RECENT_LIMIT", recent_limit)
    alice, bob = await people("alice"), await people("bob")
    made = [await say_id(shards, alice, f"post {i}") for i in range(4)]
    for post in made[:3]:
        await do(bob, "like", post)
    await do(bob, "repost", made[0])
    page = (await bob.get("/public")).text
    assert [like_button(page, post)[0] for post in made] == ["Unlike"] * 3 + ["Like"]
    assert repost_button(page, made[0])[0] == "Undo repost"
    assert repost_button(page, made[1])[0] == "Repost"
    await do(bob, "unlike", made[1])
    page = (await bob.get("/public")).text
    assert [like_button(page, post)[0] for post in made] == ["Unlike", "Like", "Unlike", "Like"]
