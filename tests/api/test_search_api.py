"""``/api/v2/search`` against Mastodon's contract: accounts, statuses and hashtags, local URLs
resolved, and queries that must not break anything."""

from __future__ import annotations

import pytest

from api_support import ApiUser, anonymous
from twoorl.accounts import service as accounts
from twoorl.storage.shards import ShardSet


async def search(user: ApiUser, **params: str) -> dict:
    response = await user.get("/api/v2/search", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"accounts", "statuses", "hashtags"}
    return body


async def rename(shards: ShardSet, user: ApiUser, display_name: str) -> None:
    account = await accounts.get_by_id(shards, int(user.id))
    assert account is not None
    await accounts.update_profile(
        shards,
        account,
        display_name=display_name,
        bio=account.bio,
        locale=account.locale,
        use_gravatar=account.use_gravatar,
        profile_color=account.profile_color,
    )


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_accounts_by_username_or_display_name_prefix(api_users, shards) -> None:
    ana, _anabel, bob = await api_users("ana"), await api_users("anabel"), await api_users("bob")
    await rename(shards, bob, "Annie Bobson")
    found = await search(ana, q="an", type="accounts")
    assert [a["username"] for a in found["accounts"]] == ["ana", "anabel", "bob"]
    assert found["statuses"] == [] and found["hashtags"] == []
    assert [a["username"] for a in (await search(ana, q="@anab"))["accounts"]] == ["anabel"]
    assert [a["username"] for a in (await search(ana, q="ANNIE"))["accounts"]] == ["bob"]
    assert (await search(ana, q="bobson"))["accounts"] == []  # prefixes, not substrings
    first = (await search(ana, q="an", limit="1"))["accounts"]
    assert [a["username"] for a in first] == ["ana"]
    assert {"id", "username", "acct", "url", "avatar", "followers_count"} <= set(first[0])


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_the_exact_username_comes_first_and_following_narrows(api_users, shards) -> None:
    annie, bob, cy = await api_users("annie"), await api_users("bob"), await api_users("cy")
    await rename(shards, annie, "Bob's biggest fan")
    found = await search(cy, q="bob", type="accounts")
    assert [a["username"] for a in found["accounts"]] == ["bob", "annie"]
    assert (await search(cy, q="bob", following="true"))["accounts"] == []
    await cy.post(f"/api/v1/accounts/{annie.id}/follow")
    followed = await search(cy, q="bob", following="true")
    assert [a["username"] for a in followed["accounts"]] == ["annie"]
    await bob.status("a bob post")
    await annie.status("an annie post")
    by_one = await search(cy, q="post", type="statuses", account_id=annie.id)
    assert [s["account"]["username"] for s in by_one["statuses"]] == ["annie"]


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_an_address_on_this_site_finds_the_account(api_users) -> None:
    ana, _bob = await api_users("ana"), await api_users("bob")
    for query in ("@bob@testserver", "bob@testserver"):
        found = await search(ana, q=query, resolve="true")
        assert [a["username"] for a in found["accounts"]] == ["bob"], query
    # Other servers' people are not here: Twoorl does not federate.
    assert (await search(ana, q="@bob@elsewhere.example", resolve="true"))["accounts"] == []


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_statuses_containing_the_words_from_every_shard(api_users, shards) -> None:
    writers = []
    homes: set[int] = set()
    while len(homes) < len(shards.shards) or len(writers) < 3:
        assert len(writers) < 40
        writer = await api_users(f"writer{len(writers)}")
        writers.append(writer)
        homes.add(shards.shards.index(shards.for_id(int(writer.id))))
    expected = []
    for i, writer in enumerate(writers):
        expected.append((await writer.status(f"number {i}: Needle in a haystack"))["id"])
        await writer.status(f"number {i}: nothing to see")
    original = expected[0]
    await writers[1].post(f"/api/v1/statuses/{original}/reblog")
    # limit=40: covering every shard can take more writers than the default page of 20.
    found = await search(writers[0], q="needle IN", type="statuses", limit="40")
    # Newest first, each post once (a reblog is not a second match).
    assert [s["id"] for s in found["statuses"]] == expected[::-1]
    assert found["accounts"] == [] and found["hashtags"] == []
    page = await search(writers[0], q="needle", type="statuses", limit="2")
    assert [s["id"] for s in page["statuses"]] == expected[::-1][:2]
    older = await search(writers[0], q="needle", type="statuses", max_id=expected[-2], limit="40")
    assert [s["id"] for s in older["statuses"]] == expected[::-1][2:]
    offset = await search(writers[0], q="needle", type="statuses", limit="2", offset="2")
    assert [s["id"] for s in offset["statuses"]] == expected[::-1][2:4]


async def test_hashtags_by_prefix(api_users) -> None:
    ana = await api_users("ana")
    await ana.status("#TeaTime with #tea and #coffee")
    await ana.status("more #tea")
    for query in ("tea", "#Tea", "TEA"):
        found = await search(ana, q=query, type="hashtags")
        assert [t["name"] for t in found["hashtags"]] == ["tea", "teatime"], query
        assert found["hashtags"][0]["url"] == "http://testserver/tags/tea"
        assert found["hashtags"][0]["history"] == []
    everything = await search(ana, q="cof")
    assert [t["name"] for t in everything["hashtags"]] == ["coffee"]
    assert everything["accounts"] == []


async def test_local_profile_and_post_urls_find_that_account_and_status(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await bob.status("findable")
    by_profile = await search(ana, q="http://testserver/@bob", resolve="true")
    assert [a["id"] for a in by_profile["accounts"]] == [bob.id]
    assert by_profile["statuses"] == []
    by_post = await search(ana, q=made["url"], resolve="true")
    assert [s["id"] for s in by_post["statuses"]] == [made["id"]]
    assert by_post["accounts"] == []
    # The type asked for still applies.
    assert (await search(ana, q=made["url"], type="accounts"))["statuses"] == []
    # Someone else's name on the post, a missing post, another site: nothing, and no error.
    for query in (
        f"http://testserver/@ana/{made['id']}",
        f"http://testserver/@bob/{int(made['id']) + 1}",
        "http://testserver/@nobody",
        f"https://elsewhere.example/@bob/{made['id']}",
        "http://testserver/@bob/not-a-number",
    ):
        found = await search(ana, q=query, resolve="true")
        assert found["statuses"] == [] and found["accounts"] == [], query


AWKWARD_QUERIES = [
    "%",
    "_",
    "%_%",
    "\\",
    "'",
    '"',
    "' OR 1=1 --",
    '"quoted words"',
    "a\x00b",
    "\u202e\u200b",
    "x" * 10_000,
    "x" * 20_000,
    "#" * 500,
    "@" * 300,
    "http://testserver/@" + "a" * 5000,
]


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_awkward_queries_answer_cleanly(app, api_users) -> None:
    ana = await api_users("ana")
    await ana.status("100% sure, under_score and 'quotes' with \"double\" ones")
    async with anonymous(app) as client:
        for query in AWKWARD_QUERIES:
            found = await search(ana, q=query)
            # Full-text search finds words: wildcards and quotes are not wildcards and not
            # words, so they find nothing (rather than every post).
            if query in ("%", "_", "'", '"', "%_%"):
                assert found["statuses"] == [], query
            response = await client.get("/api/v2/search", params={"q": query, "resolve": "1"})
            assert response.status_code == 200, (query[:50], response.text)
        # The words around the punctuation are found, whatever the punctuation.
        for query in ("100%", "under_score", "'quotes'", '"double"', "sure, 100"):
            assert len((await search(ana, q=query))["statuses"]) == 1, query


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_empty_queries_and_anonymous_search(app, api_users) -> None:
    ana = await api_users("ana")
    await ana.status("anything")
    for params in ({"q": ""}, {"q": "   "}, {}):
        assert await search(ana, **params) == {"accounts": [], "statuses": [], "hashtags": []}
    async with anonymous(app) as client:
        response = await client.get("/api/v2/search", params={"q": "anyth"})
    assert response.status_code == 200
    assert [s["content"] for s in response.json()["statuses"]] == ["<p>anything</p>"]
