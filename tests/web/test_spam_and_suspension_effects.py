"""What a moderator's decision does to what everyone reads: a spammer's posts leave the public
and tag timelines (pages and API) but stay on their own profile; a suspended account's posts
leave every timeline, home included. Clearing the flag brings the posts back."""

from __future__ import annotations

import pytest

from twoorl.accounts import service as accounts
from twoorl.moderation import service as moderation

THREE_SHARDS = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)


async def drained(app) -> None:
    await app.state.services.worker.drain()


@THREE_SHARDS
async def test_a_spammers_posts_leave_the_shared_timelines(app, people, shards) -> None:
    spammer = await people("spammy")
    reader = await people("reader")
    await spammer.post("cheap watches #deals")
    await reader.post("an honest post #deals")
    target = await accounts.get_by_username(shards, "spammy")

    await moderation.mark_spam(shards, None, target, True, "link farm")
    await drained(app)
    await spammer.post("more cheap watches #deals")  # new posts are hidden from the start

    for path in ("/public", "/tags/deals"):
        page = (await reader.get(path)).text
        assert "cheap watches" not in page, path
        assert "an honest post" in page, path
    profile = (await reader.get("/@spammy")).text
    assert "cheap watches" in profile and "more cheap watches" in profile
    shown = [status["content"] for status in (await reader.get("/api/v1/timelines/public")).json()]
    assert shown == [
        '<p>an honest post <a class="hashtag" href="http://testserver/tags/deals">#deals</a></p>'
    ]

    await moderation.mark_spam(shards, None, target, False, "appeal accepted")
    await drained(app)
    page = (await reader.get("/public")).text
    assert "more cheap watches" in page and "cheap watches" in page


@THREE_SHARDS
async def test_a_suspended_accounts_posts_leave_home_timelines_too(app, people, shards) -> None:
    author = await people("gone")
    follower = await people("fan")
    await follower.follow("gone")
    await author.post("soon suspended")
    assert "soon suspended" in (await follower.get("/")).text

    await moderation.suspend(shards, None, await accounts.get_by_username(shards, "gone"), "abuse")
    await drained(app)
    assert "soon suspended" not in (await follower.get("/")).text
    assert "soon suspended" not in (await follower.get("/public")).text


@THREE_SHARDS
async def test_spammers_leave_search_the_directory_and_trending(app, people, shards) -> None:
    from twoorl.search import trending

    spammer = await people("spamkin")
    honest = await people("spamless")  # shares the prefix, so a people search finds both
    await spammer.post("zeppelin tickets cheap #zepdeal")
    await honest.post("my zeppelin ride #zepride")
    reader = await people("reader")
    assert "zeppelin tickets cheap" in (await reader.get("/search?q=zeppelin")).text

    await moderation.mark_spam(
        shards, None, await accounts.get_by_username(shards, "spamkin"), True, "tickets"
    )
    await drained(app)
    found = (await reader.get("/search?q=zeppelin")).text
    assert "zeppelin tickets cheap" not in found and "my zeppelin ride" in found
    people_found = (await reader.get("/search?q=spam")).text
    assert "@spamless" in people_found and "@spamkin" not in people_found
    assert "@spamkin" not in (await reader.get("/users")).text
    assert "@spamkin" not in (await reader.get("/users?order=popular")).text
    api = (await reader.get("/api/v2/search", params={"q": "zeppelin"})).json()
    assert [s["account"]["username"] for s in api["statuses"]] == ["spamless"]
    trending.forget(shards)
    tags = [found.tag for found in await trending.count_trending(shards)]
    assert "zepride" in tags and "zepdeal" not in tags
