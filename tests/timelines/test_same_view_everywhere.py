"""One read model: the web pages, the Mastodon API and the feeds of a timeline show a viewer
the same posts. A small world holds every rule that decides what a viewer sees (mutes, blocks
both ways, spam, suspension, reposts of hidden posts, the moderator's exemption); each
timeline is read on every surface by every kind of viewer and compared with what the rules
say, so a surface that drifts from the others fails here.

Post ids are content ids: a repost shows the post it reposts (``data-post-id`` on pages,
``reblog.id`` in the API), and a post appears once per page however many people reposted it.
Feeds are public documents (no viewer) and carry no reposts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from api_support import ApiUser, anonymous, web_and_api_user
from conftest import Person, post_ids
from twoorl.accounts import service as accounts
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role

pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)

AUTHORS = ("norm", "mutey", "blocky", "blocker", "spammy", "gone", "reposter")
FEED_ITEM_ID = re.compile(r"/(\d+)$")


@dataclass
class Member:
    """One person, signed in on the web and holding an API token."""

    web: Person
    api: ApiUser

    @property
    def id(self) -> str:
        return self.api.id


@dataclass
class World:
    members: dict[str, Member]
    post: dict[str, int]  # label -> post id
    anonymous: Person
    anonymous_api: object  # an API client without a token

    def ids(self, *labels: str) -> list[str]:
        """The posts' labels (as failures show them), checked to be posts of this world."""
        assert set(labels) <= set(self.post), labels
        return list(labels)

    def labels(self, ids: list[int]) -> list[str]:
        by_id = {post_id: label for label, post_id in self.post.items()}
        return [by_id.get(post_id, str(post_id)) for post_id in ids]


async def member(app, people, username: str) -> Member:
    return Member(*await web_and_api_user(app, people, username))


@pytest.fixture
async def world(app, people, shards) -> World:
    names = ("vera", "mod", *AUTHORS)
    members = {name: await member(app, people, name) for name in names}
    vera, mod = members["vera"], members["mod"]
    await moderation.grant_role(
        shards, None, await accounts.get_by_username(shards, "mod"), Role.MODERATOR
    )
    for name in AUTHORS:
        for reader in (vera, mod):
            response = await reader.api.post(f"/api/v1/accounts/{members[name].id}/follow")
            assert response.status_code == 200, response.text

    post: dict[str, int] = {}
    post["v1"] = int((await vera.api.status("vera says hi #shared"))["id"])
    for name in AUTHORS:
        post[name] = int((await members[name].api.status(f"words of {name} #shared"))["id"])
    reposter = members["reposter"].api
    for original in ("norm", "gone", "mutey"):
        response = await reposter.post(f"/api/v1/statuses/{post[original]}/reblog")
        assert response.status_code == 200, response.text

    # vera mutes mutey and blocks blocky; blocker blocks vera and the moderator (follows
    # end both ways with each block).
    for path in (
        f"/api/v1/accounts/{members['mutey'].id}/mute",
        f"/api/v1/accounts/{members['blocky'].id}/block",
    ):
        assert (await vera.api.post(path)).status_code == 200
    for target in (vera, mod):
        response = await members["blocker"].api.post(f"/api/v1/accounts/{target.id}/block")
        assert response.status_code == 200
    await moderation.mark_spam(
        shards, None, await accounts.get_by_username(shards, "spammy"), True, "spam"
    )
    await moderation.suspend(shards, None, await accounts.get_by_username(shards, "gone"), "abuse")
    await app.state.services.worker.drain()
    async with anonymous(app) as client:
        yield World(members, post, await people(), client)


def api_ids(statuses: list[dict]) -> list[int]:
    return [int((status["reblog"] or status)["id"]) for status in statuses]


async def api_page(world: World, client, path: str) -> list[str]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return world.labels(api_ids(response.json()))


async def web_page(world: World, person: Person, path: str) -> list[str]:
    response = await person.get(path)
    assert response.status_code == 200, response.text
    return world.labels(post_ids(response.text))


async def feed_items(world: World, person: Person, path: str) -> list[str]:
    response = await person.get(path)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return world.labels([int(FEED_ITEM_ID.search(item["id"]).group(1)) for item in items])


def viewers(world: World) -> dict[str, tuple[Person, object]]:
    """Each kind of viewer: its browser and its API client (anonymous: no token)."""
    return {
        "anonymous": (world.anonymous, world.anonymous_api),
        "vera": (world.members["vera"].web, world.members["vera"].api),
        "mod": (world.members["mod"].web, world.members["mod"].api),
    }


async def test_public_and_tag_timelines_agree_on_every_surface(world: World) -> None:
    # Shared timelines carry no reposts; gone is suspended and spammy's posts are kept off
    # them. Blocking a moderator hides nothing from them.
    everyone = world.ids("reposter", "blocker", "blocky", "mutey", "norm", "v1")
    expected = {"anonymous": everyone, "vera": world.ids("reposter", "norm", "v1"), "mod": everyone}
    tagged = expected
    for name, (web, api) in viewers(world).items():
        assert await web_page(world, web, "/public") == expected[name], name
        assert await api_page(world, api, "/api/v1/timelines/public") == expected[name], name
        assert await web_page(world, web, "/tags/shared") == tagged[name], name
        assert await api_page(world, api, "/api/v1/timelines/tag/shared") == tagged[name], name
    assert await feed_items(world, world.anonymous, "/public.json") == everyone


async def test_home_timelines_and_the_friends_feed_agree(world: World) -> None:
    expected = {
        # vera no longer follows blocky (she blocked them) or blocker (who blocked her).
        "vera": world.ids("norm", "reposter", "spammy", "v1"),
        "mod": world.ids("mutey", "norm", "reposter", "spammy", "blocky"),
    }
    for name in ("vera", "mod"):
        web, api = viewers(world)[name]
        assert await web_page(world, web, "/") == expected[name], name
        assert await api_page(world, api, "/api/v1/timelines/home") == expected[name], name
    # The friends feed is vera's home as she reads it, less her own posts and the reposts.
    assert await feed_items(world, world.anonymous, "/@vera/friends.json") == world.ids(
        "reposter", "spammy", "norm"
    )
    assert await feed_items(world, world.anonymous, "/@mod/friends.json") == world.ids(
        "reposter", "spammy", "blocky", "mutey", "norm"
    )


async def test_profiles_agree_on_every_surface(world: World) -> None:
    own = {name: world.ids(name) for name in AUTHORS}
    own["gone"] = []  # suspended: nothing, anywhere
    own["reposter"] = world.ids("mutey", "norm", "reposter")
    expected = {name: dict(own) for name in ("anonymous", "vera", "mod")}
    expected["vera"]["blocker"] = []  # blocker blocked vera
    expected["vera"]["reposter"] = world.ids("norm", "reposter")  # mutey's post is muted
    for viewer, (web, api) in viewers(world).items():
        for author in AUTHORS:
            account_id = world.members[author].id
            shown = expected[viewer][author]
            assert await web_page(world, web, f"/@{author}") == shown, (viewer, author)
            api_shown = await api_page(world, api, f"/api/v1/accounts/{account_id}/statuses")
            assert api_shown == shown, (viewer, author)
    for author in AUTHORS:
        feed = [] if author == "gone" else world.ids(author)
        assert await feed_items(world, world.anonymous, f"/@{author}.json") == feed, author


async def test_search_agrees_on_every_surface(world: World) -> None:
    for name, (web, api) in viewers(world).items():
        page = await web.get("/search?q=words")
        assert page.status_code == 200
        found = await api_page_of_search(api, "/api/v2/search?q=words&type=statuses")
        assert world.labels(post_ids(page.text)) == world.labels(found), name
    # People: nobody who blocked the viewer, on the page or in the API.
    for name, (web, api) in viewers(world).items():
        page = (await web.get("/search?q=blocker")).text
        response = await api.get("/api/v2/search?q=blocker&type=accounts")
        listed = [person["username"] for person in response.json()["accounts"]]
        shown = name != "vera"
        assert ('href="/@blocker"' in page) is shown, name
        assert listed == (["blocker"] if shown else []), name


async def api_page_of_search(client, path: str) -> list[int]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return api_ids(response.json()["statuses"])
