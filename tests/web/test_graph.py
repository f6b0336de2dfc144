"""Following and unfollowing over HTTP: counts, lists, the button, and the stored edges."""

from __future__ import annotations

import re

from sqlalchemy import select
from web_support import account_id, send

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Counts
from twoorl.graph import service as graph
from twoorl.graph.tables import followers, following
from twoorl.jobs.tables import jobs
from twoorl.storage.shards import ShardSet

COUNT_RE = re.compile(r'href="/@\w+(/following|/followers)?"><strong>([\d,]+)</strong>')
BUTTON_RE = re.compile(
    r'<form method="post" action="/@(\w+)/(follow|unfollow)">.*?<button[^>]*>(\w+)</button>',
    re.DOTALL,
)
PEOPLE_RE = re.compile(r'<ul class="people">(.*?)</ul>', re.DOTALL)


# --- helpers ---------------------------------------------------------------------------------


async def profile_counts(person, username: str) -> dict[str, int]:
    response = await person.get(f"/@{username}")
    assert response.status_code == 200
    names = {"": "posts", "/following": "following", "/followers": "followers"}
    found = {names[k]: int(v.replace(",", "")) for k, v in COUNT_RE.findall(response.text)}
    assert set(found) == {"posts", "following", "followers"}, found
    return found


async def listed(person, path: str) -> list[str]:
    """The usernames on a followers/following page, in page order."""
    response = await person.get(path)
    assert response.status_code == 200, path
    match = PEOPLE_RE.search(response.text)
    assert match, path
    return re.findall(r'<a href="/@(\w+)">', match.group(1))


async def button(person, username: str) -> tuple[str, str] | None:
    """(form action verb, button label) of the follow button on a profile, if there is one."""
    found = BUTTON_RE.search((await person.get(f"/@{username}")).text)
    if found is None:
        return None
    assert found.group(1) == username
    return found.group(2), found.group(3)


async def stored_edges(shards: ShardSet) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(follower, followee) pairs as stored in the out-edge and in-edge tables of every shard,
    checking that each edge sits on the right shard."""
    out_edges, in_edges = set(), set()
    for shard in shards.shards:
        async with shard.read() as conn:
            for row in await conn.execute(select(following)):
                assert shards.for_id(row.follower_id) is shard
                out_edges.add((row.follower_id, row.followee_id))
            for row in await conn.execute(select(followers)):
                assert shards.for_id(row.followee_id) is shard
                in_edges.add((row.follower_id, row.followee_id))
    return out_edges, in_edges


async def no_pending_jobs(shards: ShardSet) -> bool:
    for shard in shards.shards:
        async with shard.read() as conn:
            if (await conn.execute(select(jobs))).first() is not None:
                return False
    return True


# --- follow and unfollow ---------------------------------------------------------------------


async def test_following_shows_in_counts_lists_button_and_storage(people, shards):
    alice, bob = await people("alice"), await people("bob")
    assert await button(bob, "alice") == ("follow", "Follow")
    assert await profile_counts(bob, "alice") == {"posts": 0, "following": 0, "followers": 0}
    assert await listed(bob, "/@alice/followers") == []
    assert "Nobody yet." in (await bob.get("/@alice/followers")).text

    response = await send(bob, "/@alice/follow")
    assert response.status_code == 303
    assert response.headers["location"] == "/@alice"

    assert await profile_counts(bob, "alice") == {"posts": 0, "following": 0, "followers": 1}
    assert await profile_counts(alice, "bob") == {"posts": 0, "following": 1, "followers": 0}
    assert await listed(alice, "/@alice/followers") == ["bob"]
    assert await listed(alice, "/@bob/following") == ["alice"]
    assert await listed(alice, "/@alice/following") == []
    assert await listed(alice, "/@bob/followers") == []
    assert await button(bob, "alice") == ("unfollow", "Unfollow")
    assert await button(alice, "bob") == ("follow", "Follow")  # it is not mutual

    alice_id, bob_id = await account_id(shards, "alice"), await account_id(shards, "bob")
    assert await graph.is_following(shards, bob_id, alice_id)
    assert not await graph.is_following(shards, alice_id, bob_id)
    assert await stored_edges(shards) == ({(bob_id, alice_id)}, {(bob_id, alice_id)})
    assert await accounts.counts_for(shards, alice_id) == Counts(0, 0, 1)
    assert await accounts.counts_for(shards, bob_id) == Counts(0, 1, 0)
    assert await no_pending_jobs(shards)


async def test_following_twice_changes_nothing(people, shards):
    alice, bob = await people("alice"), await people("bob")
    for _ in range(3):
        response = await send(bob, "/@alice/follow")
        assert response.status_code == 303
    assert (await profile_counts(bob, "alice"))["followers"] == 1
    assert (await profile_counts(bob, "bob"))["following"] == 1
    assert await listed(alice, "/@alice/followers") == ["bob"]
    alice_id, bob_id = await account_id(shards, "alice"), await account_id(shards, "bob")
    assert await stored_edges(shards) == ({(bob_id, alice_id)}, {(bob_id, alice_id)})


async def test_following_by_a_differently_cased_name(people, shards):
    await people("alice")
    bob = await people("bob")
    response = await send(bob, "/@ALICE/follow")
    assert response.status_code == 303
    assert response.headers["location"] == "/@alice"
    assert await button(bob, "alice") == ("unfollow", "Unfollow")
    assert (await profile_counts(bob, "alice"))["followers"] == 1


async def test_unfollowing_reverses_everything(people, shards):
    alice, bob = await people("alice"), await people("bob")
    assert (await send(bob, "/@alice/follow")).status_code == 303
    assert (await profile_counts(bob, "alice"))["followers"] == 1

    response = await send(bob, "/@alice/unfollow")
    assert response.status_code == 303
    assert response.headers["location"] == "/@alice"
    assert await profile_counts(bob, "alice") == {"posts": 0, "following": 0, "followers": 0}
    assert await profile_counts(bob, "bob") == {"posts": 0, "following": 0, "followers": 0}
    assert await listed(alice, "/@alice/followers") == []
    assert await listed(alice, "/@bob/following") == []
    assert await button(bob, "alice") == ("follow", "Follow")
    assert await stored_edges(shards) == (set(), set())
    alice_id, bob_id = await account_id(shards, "alice"), await account_id(shards, "bob")
    assert not await graph.is_following(shards, bob_id, alice_id)
    assert await accounts.counts_for(shards, alice_id) == Counts(0, 0, 0)
    assert await accounts.counts_for(shards, bob_id) == Counts(0, 0, 0)

    # And again: follow, unfollow, follow leaves exactly one edge.
    for action in ("follow", "unfollow", "follow"):
        assert (await send(bob, f"/@alice/{action}")).status_code == 303
    assert (await profile_counts(bob, "alice"))["followers"] == 1
    assert (await profile_counts(bob, "bob"))["following"] == 1
    assert await stored_edges(shards) == ({(bob_id, alice_id)}, {(bob_id, alice_id)})


async def test_unfollowing_someone_not_followed_is_harmless(people, shards):
    await people("alice")
    bob = await people("bob")
    response = await send(bob, "/@alice/unfollow")
    assert response.status_code == 303
    assert await profile_counts(bob, "alice") == {"posts": 0, "following": 0, "followers": 0}
    assert await profile_counts(bob, "bob") == {"posts": 0, "following": 0, "followers": 0}
    assert await stored_edges(shards) == (set(), set())


async def test_following_yourself_is_refused(people, shards):
    alice = await people("alice")
    assert await button(alice, "alice") is None  # one's own profile has no follow button
    assert 'href="/settings">Edit profile</a>' in (await alice.get("/@alice")).text
    for path in ["/@alice/follow", "/@Alice/follow"]:
        response = await send(alice, path)
        assert response.status_code == 422, path
        assert "You cannot follow yourself." in response.text
    assert await profile_counts(alice, "alice") == {"posts": 0, "following": 0, "followers": 0}
    assert await stored_edges(shards) == (set(), set())


async def test_following_nobody_is_404(people, shards):
    bob = await people("bob")
    for action in ("follow", "unfollow"):
        response = await send(bob, f"/@ghost/{action}")
        assert response.status_code == 404
        assert "There is nobody called @ghost here." in response.text
    for path in ["/@ghost", "/@ghost/followers", "/@ghost/following"]:
        assert (await bob.get(path)).status_code == 404, path
    assert (await profile_counts(bob, "bob"))["following"] == 0
    assert await stored_edges(shards) == (set(), set())


async def test_anonymous_follow_goes_to_login(people, shards):
    await people("alice")
    visitor = await people()
    profile = (await visitor.get("/@alice")).text
    assert '<a class="button" href="/login?next=/@alice">Follow</a>' in profile
    for action in ("follow", "unfollow"):
        response = await visitor.submit(f"/@alice/{action}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    assert (await profile_counts(visitor, "alice"))["followers"] == 0
    assert await stored_edges(shards) == (set(), set())


async def test_follow_needs_the_forms_csrf_token(people, shards):
    await people("alice")
    bob = await people("bob")
    response = await bob.client.post("/@alice/follow", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert (await profile_counts(bob, "alice"))["followers"] == 0
    assert await stored_edges(shards) == (set(), set())


async def test_following_across_shards(people, shards):
    """One person follows many, wherever they live; each in-edge lands on the followee's shard."""
    fan = await people("fan")
    names, stars = [], []
    home_shards = set()
    while len(names) < 5 or (len(home_shards) < len(shards) and len(names) < 15):
        name = f"star{len(names)}"
        stars.append(await people(name))
        names.append(name)
        home_shards.add(shards.for_id(await account_id(shards, name)).index)
    assert len(home_shards) >= min(2, len(shards))

    for name in names:
        assert (await send(fan, f"/@{name}/follow")).status_code == 303
    assert (await profile_counts(fan, "fan"))["following"] == len(names)
    assert sorted(await listed(fan, "/@fan/following")) == sorted(names)
    for name in names:
        assert (await profile_counts(fan, name))["followers"] == 1, name
        assert await listed(fan, f"/@{name}/followers") == ["fan"], name

    fan_id = await account_id(shards, "fan")
    ids = {name: await account_id(shards, name) for name in names}
    edges = {(fan_id, i) for i in ids.values()}
    assert await stored_edges(shards) == (edges, edges)
    # The following list is newest-account first (paged by account id).
    assert await listed(fan, "/@fan/following") == sorted(names, key=ids.get, reverse=True)

    # Many followers for one person, from all over.
    for star in stars:
        assert (await send(star, "/@fan/follow")).status_code == 303
    assert (await profile_counts(fan, "fan"))["followers"] == len(names)
    assert sorted(await listed(fan, "/@fan/followers")) == sorted(names)
    assert await no_pending_jobs(shards)
