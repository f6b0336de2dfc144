"""Blocks and mutes over HTTP on three shards (SQLite and PostgreSQL): a block removes follows
both ways (counters too) and stops follows, replies and notifications from the blocked person,
who no longer sees the blocker's posts; a mute hides a person's posts (and reposts by and of
them) and notifications from the muter only; undoing either restores; the profile buttons and
the settings lists."""

from __future__ import annotations

import html
import os
import re
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import account_id, send

from conftest import forget_redis_prefix, post_ids
from twoorl.accounts import service as accounts
from twoorl.graph import service as graph
from twoorl.graph.jobs import sync_blocked_by
from twoorl.graph.tables import blocked_by, blocks, followers, following, mutes
from twoorl.jobs.registry import JobContext
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role
from twoorl.notifications.tables import notifications
from twoorl.posts.tables import mentions, posts
from twoorl.storage.shards import ShardSet

pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)

COUNT_RE = re.compile(r'href="/@\w+(/following|/followers)?"><strong>([\d,]+)</strong>')
BADGE_RE = re.compile(r'<span class="badge" data-unread( hidden)?>([^<]*)</span>')
NOTIFICATION_RE = re.compile(r'<li class="notification (\w+)( unread)?">(.*?)</li>', re.DOTALL)
FORM_RE = re.compile(r'<form[^>]*action="/@(\w+)/(\w+)"')


# --- helpers ---------------------------------------------------------------------------------


async def counts(person, username: str) -> dict[str, int]:
    response = await person.get(f"/@{username}")
    assert response.status_code == 200
    names = {"": "posts", "/following": "following", "/followers": "followers"}
    return {names[k]: int(v.replace(",", "")) for k, v in COUNT_RE.findall(response.text)}


async def edges(shards: ShardSet) -> tuple[set, set]:
    """(follower, followee) pairs in the out-edge and in-edge tables of every shard."""
    out_edges, in_edges = set(), set()
    for shard in shards.shards:
        async with shard.read() as conn:
            out_edges |= {tuple(r) for r in await conn.execute(select(following.c[0:2]))}
            in_edges |= {
                (r.follower_id, r.followee_id)
                for r in await conn.execute(
                    select(followers.c.follower_id, followers.c.followee_id)
                )
            }
    return out_edges, in_edges


async def rows(shards: ShardSet, table, **where) -> list:
    found = []
    for shard in shards.shards:
        async with shard.read() as conn:
            query = select(table)
            for name, value in where.items():
                query = query.where(table.c[name] == value)
            found += list(await conn.execute(query))
    return found


async def notification_lines(person) -> list[tuple[str, str]]:
    """(kind, words without tags) of each line on /notifications (which reads them)."""
    page = await person.get("/notifications")
    assert page.status_code == 200
    return [
        (kind, html.unescape(re.sub(r"<[^>]+>", "", body)))
        for kind, _unread, body in NOTIFICATION_RE.findall(page.text)
    ]


async def unread_badge(person) -> str:
    found = BADGE_RE.search((await person.get("/settings")).text)
    assert found
    return "" if found.group(1) else found.group(2)


async def newest_post_id(person, username: str) -> int:
    return post_ids((await person.get(f"/@{username}")).text)[0]


async def profile_forms(person, username: str) -> set[str]:
    text = (await person.get(f"/@{username}")).text
    return {verb for who, verb in FORM_RE.findall(text) if who == username}


# --- blocks ----------------------------------------------------------------------------------


async def test_a_block_removes_follows_both_ways_and_stops_new_ones(app, people, shards) -> None:
    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    await ana.follow("bo")
    await bo.follow("ana")
    await cy.follow("ana")
    ana_id, bo_id, cy_id = [await account_id(shards, n) for n in ("ana", "bo", "cy")]
    assert await counts(ana, "ana") == {"posts": 0, "following": 1, "followers": 2}

    response = await send(ana, "/@bo/block")
    assert response.status_code == 303 and response.headers["location"] == "/@bo"

    out_edges, in_edges = await edges(shards)
    assert out_edges == in_edges == {(cy_id, ana_id)}  # both follows with bo are gone
    assert await counts(ana, "ana") == {"posts": 0, "following": 0, "followers": 1}
    assert await counts(ana, "bo") == {"posts": 0, "following": 0, "followers": 0}
    assert [(r.account_id, r.target_id) for r in await rows(shards, blocks)] == [(ana_id, bo_id)]
    # bo's "followed you" notification to ana went with the follow.
    assert await rows(shards, notifications, account_id=ana_id, actor_id=bo_id) == []

    refused = await bo.follow("ana")
    assert refused.status_code == 403
    assert "@ana has blocked you, so you cannot follow them." in html.unescape(refused.text)
    own = await ana.follow("bo")
    assert own.status_code == 403
    assert "You have blocked @bo. Unblock them to follow them." in html.unescape(own.text)
    assert (await edges(shards))[0] == {(cy_id, ana_id)}

    # The blocked person still sees the public profile, without a way to follow.
    assert (await bo.get("/@ana")).status_code == 200

    await send(ana, "/@bo/unblock")
    assert await rows(shards, blocks) == []
    assert (await bo.follow("ana")).status_code == 303
    assert (bo_id, ana_id) in (await edges(shards))[1]
    assert (await counts(ana, "ana"))["followers"] == 2


async def test_a_blocked_person_cannot_reply_or_notify(app, people, shards) -> None:
    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    await ana.post("ana says hi")
    ana_post = await newest_post_id(ana, "ana")
    ana_id, bo_id = await account_id(shards, "ana"), await account_id(shards, "bo")
    await send(ana, "/@bo/block")

    reply = await bo.post("@ana a reply", in_reply_to_id=ana_post)
    assert reply.status_code == 403
    assert "This person has blocked you, so you cannot reply to them." in html.unescape(reply.text)
    assert "@ana a reply" in html.unescape(reply.text)  # their words kept in the form
    # Someone else still can.
    assert (await cy.post("@ana fine reply", in_reply_to_id=ana_post)).status_code == 303

    await bo.post("hey @ana, look")
    bo_post = await newest_post_id(bo, "bo")
    await send(bo, f"/posts/{ana_post}/like")
    await send(bo, f"/posts/{ana_post}/repost")
    assert await rows(shards, mentions, account_id=ana_id, post_id=bo_post) == []
    assert await rows(shards, notifications, account_id=ana_id, actor_id=bo_id) == []
    assert [kind for kind, _ in await notification_lines(ana)] == ["reply"]  # cy's
    assert "hey @ana" not in (await ana.get("/mentions")).text

    # Unblocked, bo's next mention notifies again.
    await send(ana, "/@bo/unblock")
    await bo.post("hello again @ana")
    assert [kind for kind, _ in await notification_lines(ana)] == ["mention", "reply"]


# --- mutes -----------------------------------------------------------------------------------


async def test_muted_posts_leave_the_muters_timelines_only(app, people, shards) -> None:
    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    for person in (ana, cy):
        await person.follow("bo")
    await ana.follow("cy")
    await bo.post("bo writes about #cats")
    bo_post = await newest_post_id(bo, "bo")
    await cy.post("cy writes about #cats")
    await send(cy, f"/posts/{bo_post}/repost")  # cy reposts bo
    await send(bo, "/@cy/follow")
    await cy.post("cy again")
    cy_post = await newest_post_id(cy, "cy")
    await send(bo, f"/posts/{cy_post}/repost")  # bo reposts cy

    async def seen(person, path: str) -> str:
        response = await person.get(path)
        assert response.status_code == 200
        return response.text

    for path in ("/", "/public", "/tags/cats"):
        assert "bo writes about" in await seen(ana, path), path
    assert "Reposted by" in await seen(ana, "/")

    await send(ana, "/@bo/mute")
    for path in ("/", "/public", "/tags/cats"):
        page = await seen(ana, path)
        assert "bo writes about" not in page, path  # neither the post nor cy's repost of it
        assert "cy writes about" in page, path
    assert "Reposted by" not in await seen(ana, "/")  # bo's repost of cy is gone too
    assert "cy again" in await seen(ana, "/")  # cy's own post stays
    # Others still see everything; the muted person's own profile still shows their posts.
    for path in ("/", "/public", "/tags/cats"):
        assert "bo writes about" in await seen(cy, path), path
    assert "bo writes about" in await seen(ana, "/@bo")
    assert "bo writes about" in await seen(ana, f"/@bo/{bo_post}")

    await send(ana, "/@bo/unmute")
    for path in ("/", "/public", "/tags/cats"):
        assert "bo writes about" in await seen(ana, path), path


async def test_muted_notifications_are_hidden_until_unmuted(app, people, shards) -> None:
    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    await ana.post("ana's post")
    ana_post = await newest_post_id(ana, "ana")
    await send(ana, "/@bo/mute")
    await bo.post("@ana hello")
    await bo.follow("ana")
    await send(bo, f"/posts/{ana_post}/like")
    await cy.post("@ana from cy")
    # Stored (a mute is not a block), but neither counted nor shown.
    bo_id = await account_id(shards, "bo")
    assert len(await rows(shards, notifications, actor_id=bo_id)) == 3
    assert await unread_badge(ana) == "1"
    assert [kind for kind, _ in await notification_lines(ana)] == ["mention"]
    assert bo_id == (await rows(shards, mutes))[0].target_id

    await send(ana, "/@bo/unmute")
    kinds = [kind for kind, _ in await notification_lines(ana)]
    assert sorted(kinds) == ["follow", "like", "mention", "mention"]


# --- pages -----------------------------------------------------------------------------------


async def test_profile_buttons_and_settings_lists(app, people, shards) -> None:
    ana, _bo, _cy = await people("ana"), await people("bo"), await people("cy")
    assert await profile_forms(ana, "bo") == {"follow", "mute", "block"}
    assert await profile_forms(ana, "ana") == set()  # no buttons on your own profile
    settings = (await ana.get("/settings")).text
    assert "You have not blocked anyone." in settings
    assert "You have not muted anyone." in settings

    await send(ana, "/@bo/block")
    await send(ana, "/@cy/mute")
    assert await profile_forms(ana, "bo") == {"follow", "mute", "unblock"}
    assert await profile_forms(ana, "cy") == {"follow", "unmute", "block"}
    settings = (await ana.get("/settings")).text
    blocked = settings.split('id="blocked-people"')[1].split("</section>")[0]
    muted = settings.split('id="muted-people"')[1].split("</section>")[0]
    assert 'action="/@bo/unblock"' in blocked and "@cy" not in blocked
    assert 'action="/@cy/unmute"' in muted and "@bo" not in muted

    # The buttons in settings come back to settings.
    response = await send(ana, "/@bo/unblock", {"next": "/settings#blocked-people"})
    assert response.headers["location"] == "/settings#blocked-people"
    await send(ana, "/@cy/unmute", {"next": "/settings#muted-people"})
    settings = (await ana.get("/settings")).text
    assert "You have not blocked anyone." in settings
    assert "You have not muted anyone." in settings
    assert await rows(shards, blocks) == [] and await rows(shards, mutes) == []

    # Nobody blocks or mutes themselves; strangers cannot act; user text is escaped.
    assert (await send(ana, "/@ana/block")).status_code == 422
    assert (await send(ana, "/@ana/mute")).status_code == 422
    assert (await send(ana, "/@nobody/block")).status_code == 404


async def test_settings_escape_names(app, people, shards) -> None:
    ana, bo = await people("ana"), await people("bo")
    await send(bo, "/settings/profile", {"display_name": "<b>bo</b>", "bio": ""})
    await send(ana, "/@bo/mute")
    settings = (await ana.get("/settings")).text
    assert "&lt;b&gt;bo&lt;/b&gt;" in settings and "<b>bo</b>" not in settings


# --- with the Redis fan-out cache ------------------------------------------------------------


class TestWithTheFanOutCache:
    """Home timelines from Redis: filtered at read time just the same."""

    @pytest.fixture
    def redis_prefix(self, redis_url: str) -> Iterator[str]:
        prefix = f"twoorl-test:{os.getpid()}:{secrets.token_hex(4)}:"
        yield prefix
        forget_redis_prefix(redis_url, prefix)

    @pytest.fixture
    def settings_overrides(self, redis_url: str, redis_prefix: str) -> dict[str, object]:
        return {"redis_url": redis_url, "redis_prefix": redis_prefix}

    async def test_home_filtering(self, app, people, shards) -> None:
        assert app.state.services.timelines is not None
        ana, bo = await people("ana"), await people("bo")
        await ana.follow("bo")
        await bo.post("cached bo post")
        assert "cached bo post" in (await ana.get("/")).text
        await send(ana, "/@bo/mute")
        assert "cached bo post" not in (await ana.get("/")).text
        await send(ana, "/@bo/unmute")
        assert "cached bo post" in (await ana.get("/")).text
        # A block takes the follow (so bo's posts) out of ana's cached timeline for good.
        await send(ana, "/@bo/block")
        await send(ana, "/@bo/unblock")
        assert "cached bo post" not in (await ana.get("/")).text
        # And bo, who followed ana, no longer gets ana's posts pushed into theirs.
        await bo.follow("ana")
        await send(ana, "/@bo/block")
        await ana.post("ana after the block")
        assert "ana after the block" not in (await bo.get("/")).text


async def test_a_follow_that_raced_a_block_is_undone(app, people, shards) -> None:
    """A follow whose block check ran just before the block committed: the in-edge job sees
    the block on the blocker's shard and takes the follow back out."""
    from twoorl.accounts.tables import account_counters
    from twoorl.graph.service import _queue_sync
    from twoorl.storage.sql import add_to_counter, insert_if_absent
    from twoorl.storage.types import utcnow

    ana, bo = await people("ana"), await people("bo")
    await send(ana, "/@bo/block")
    ana_id, bo_id = await account_id(shards, "ana"), await account_id(shards, "bo")
    async with shards.for_id(bo_id).write() as conn:  # what graph.follow writes
        await insert_if_absent(
            conn, following, follower_id=bo_id, followee_id=ana_id, created_at=utcnow()
        )
        await add_to_counter(conn, account_counters, "account_id", bo_id, "following", 1)
        await _queue_sync(conn, bo_id, ana_id)
    await app.state.services.worker.drain()
    assert await edges(shards) == (set(), set())
    assert await counts(bo, "bo") == {"posts": 0, "following": 0, "followers": 0}
    assert await counts(bo, "ana") == {"posts": 0, "following": 0, "followers": 0}
    assert await rows(shards, notifications) == []


async def test_the_home_stream_leaves_out_muted_people(app, people, shards) -> None:
    from test_notifications import EventStream, say_id

    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    await ana.follow("bo")
    await ana.follow("cy")
    async with EventStream(app, "/stream/home", ana) as stream:
        assert await stream.event() == ("ready", {})
        await send(ana, "/@bo/mute")  # while the stream is open
        await say_id(shards, bo, "muted live")
        shown = await say_id(shards, cy, "cy live")
        assert await stream.event() == ("post", {"post_id": str(shown)})
        await send(ana, "/@bo/unmute")
        again = await say_id(shards, bo, "unmuted live")
        assert await stream.event() == ("post", {"post_id": str(again)})
        assert await stream.nothing_more()


async def test_search_leaves_out_the_people_the_searcher_blocked(app, people, shards) -> None:
    searcher, pest, other = await people("seeker"), await people("pesky"), await people("pert")
    await pest.post("kumquat season again")
    await other.post("kumquat jam recipe")
    assert "kumquat season" in (await searcher.get("/search?q=kumquat")).text
    await send(searcher, "/@pesky/block")
    found = (await searcher.get("/search?q=kumquat")).text
    assert "kumquat season" not in found and "kumquat jam" in found
    assert "@pesky" not in (await searcher.get("/search?q=pe")).text
    # Only for the searcher: others still find the post.
    assert "kumquat season" in (await other.get("/search?q=kumquat")).text


async def test_a_blocked_person_no_longer_sees_the_blocker(app, people, shards) -> None:
    ana, bo, cy = await people("ana"), await people("bo"), await people("cy")
    await ana.post("ana on quinces")
    await cy.post("cy on quinces")
    await bo.follow("cy")
    ana_id, bo_id = await account_id(shards, "ana"), await account_id(shards, "bo")
    (ana_post,) = await rows(shards, posts, author_id=ana_id)
    # Before the block, bo sees ana everywhere (the checks below can fail).
    assert "ana on quinces" in (await bo.get("/public")).text
    assert "ana on quinces" in (await bo.get("/search?q=quinces")).text
    assert "@ana" in (await bo.get("/search?q=an")).text

    await send(ana, "/@bo/block")
    # The in-edge on bo's shard, written by the block's job.
    assert [(r.account_id, r.blocker_id) for r in await rows(shards, blocked_by)] == [
        (bo_id, ana_id)
    ]
    public = (await bo.get("/public")).text
    assert "ana on quinces" not in public and "cy on quinces" in public
    assert "ana on quinces" not in (await bo.get("/search?q=quinces")).text
    assert "@ana" not in (await bo.get("/search?q=an")).text
    profile = html.unescape((await bo.get("/@ana")).text)
    assert "@ana has blocked you." in profile
    assert "ana on quinces" not in profile and "No posts yet." not in profile
    assert ("ana", "follow") not in FORM_RE.findall(profile)
    # Her post's own page, and liking or reposting it, are refused with the reason.
    page = await bo.get(f"/@ana/{ana_post.id}")
    assert page.status_code == 403 and "@ana has blocked you." in html.unescape(page.text)
    for action in ("like", "repost"):
        refused = await send(bo, f"/posts/{ana_post.id}/{action}")
        assert refused.status_code == 403, action
        assert "you cannot like or repost their posts" in html.unescape(refused.text)
    # A repost of ana's post by someone bo follows stays out of bo's home (dan, who also
    # follows cy and is not blocked, sees it there).
    dan = await people("dan")
    await dan.follow("cy")
    await send(cy, f"/posts/{ana_post.id}/repost")
    assert "ana on quinces" in (await dan.get("/")).text
    assert "ana on quinces" not in (await bo.get("/")).text
    # Everyone else, signed in or not, still sees ana; ana still sees bo's profile.
    assert "ana on quinces" in (await cy.get("/public")).text
    assert "has blocked you" not in (await ana.get("/@bo")).text

    await send(ana, "/@bo/unblock")
    assert await rows(shards, blocked_by) == []
    assert "ana on quinces" in (await bo.get("/public")).text
    assert "has blocked you" not in (await bo.get("/@ana")).text
    assert (await bo.get(f"/@ana/{ana_post.id}")).status_code == 200


async def test_moderators_still_see_whoever_blocked_them(app, people, shards) -> None:
    mod, troll = await people("mod"), await people("troll")
    await moderation.grant_role(
        shards, None, await accounts.get_by_username(shards, "mod"), Role.MODERATOR
    )
    await troll.post("troll post")
    (post,) = await rows(shards, posts, author_id=await account_id(shards, "troll"))
    await send(troll, "/@mod/block")
    profile = (await mod.get("/@troll")).text
    assert "troll post" in profile and "has blocked you" not in profile
    assert (await mod.get(f"/@troll/{post.id}")).status_code == 200


async def test_the_block_in_edge_converges_whatever_order_its_jobs_run(app, people, shards) -> None:
    """Jobs run at least once and in any order: replaying the block's job after the unblock's,
    and twice, leaves the in-edge as the block itself says."""
    await people("ana"), await people("bo")
    ana_id, bo_id = await account_id(shards, "ana"), await account_id(shards, "bo")
    ctx = JobContext(shards, app.state.services.broker)
    payload = {"blocker_id": ana_id, "target_id": bo_id}

    async def in_edges() -> list[tuple[int, int]]:
        return [(r.account_id, r.blocker_id) for r in await rows(shards, blocked_by)]

    ana = await accounts.get_by_username(shards, "ana")
    bo = await accounts.get_by_username(shards, "bo")
    await graph.block(shards, ana, bo)
    await graph.unblock(shards, ana, bo)
    for _ in range(2):  # the block's job, late and repeated: the block is gone, so no edge
        await sync_blocked_by(ctx, payload)
        assert await in_edges() == []
    await graph.block(shards, ana, bo)
    for _ in range(2):
        await sync_blocked_by(ctx, payload)
        assert await in_edges() == [(bo_id, ana_id)]
