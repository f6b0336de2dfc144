"""The notifications API against Mastodon's contract: the four types Twoorl has, filters,
paging with ``Link``, reading one, dismissing one and clearing all."""

from __future__ import annotations

import re

import pytest

from api_support import ApiUser, anonymous, api_user

NOTIFICATION_FIELDS = {"id", "type", "created_at", "account", "status"}
MASTODON_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def listed(user: ApiUser, query: str = "") -> list[dict]:
    response = await user.get(f"/api/v1/notifications{query}")
    assert response.status_code == 200, response.text
    return response.json()


async def one_of_each(ana: ApiUser, bob: ApiUser) -> dict[str, dict]:
    """Bob follows, mentions, replies to, favourites and reblogs Ana; the statuses involved."""
    assert (await bob.post(f"/api/v1/accounts/{ana.id}/follow")).status_code == 200
    mention = await bob.status("hello @ana")
    original = await ana.status("my post")
    reply = await bob.status("a reply, no @ in it", in_reply_to_id=original["id"])
    assert (await bob.post(f"/api/v1/statuses/{original['id']}/favourite")).status_code == 200
    assert (await bob.post(f"/api/v1/statuses/{original['id']}/reblog")).status_code == 200
    return {"mention": mention, "original": original, "reply": reply}


async def test_each_kind_arrives_with_mastodons_name_newest_first(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await one_of_each(ana, bob)
    found = await listed(ana)
    assert [n["type"] for n in found] == ["reblog", "favourite", "mention", "mention", "follow"]
    ids = [int(n["id"]) for n in found]
    assert ids == sorted(ids, reverse=True)
    reblog, favourite, reply, mention, follow = found
    for item in found:
        assert set(item) >= NOTIFICATION_FIELDS, item
        assert item["id"].isdigit() and MASTODON_TIME.match(item["created_at"])
        assert item["account"]["id"] == bob.id and item["account"]["username"] == "bob"
    # A reblog or favourite notification carries the original status, not the wrapper.
    assert reblog["status"]["id"] == made["original"]["id"]
    assert favourite["status"]["id"] == made["original"]["id"]
    assert favourite["status"]["favourited"] is False  # as Ana sees it
    assert reply["status"]["id"] == made["reply"]["id"]
    assert reply["status"]["in_reply_to_id"] == made["original"]["id"]
    assert mention["status"]["id"] == made["mention"]["id"]
    assert follow["status"] is None
    # Bob is told nothing about his own doings.
    assert await listed(bob) == []


async def test_types_exclude_types_and_account_id_filter(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    await one_of_each(ana, bob)
    assert (await cy.post(f"/api/v1/accounts/{ana.id}/follow")).status_code == 200

    async def types(query: str) -> list[str]:
        return [n["type"] for n in await listed(ana, query)]

    assert await types("?types[]=follow") == ["follow", "follow"]
    assert await types("?types[]=mention&types[]=favourite") == ["favourite", "mention", "mention"]
    assert await types("?types=reblog") == ["reblog"]
    assert await types("?exclude_types[]=mention&exclude_types[]=follow") == [
        "reblog",
        "favourite",
    ]
    assert await types("?types[]=follow&exclude_types[]=follow") == []
    # Types Twoorl never makes (polls, edits) are simply none.
    assert await types("?types[]=poll&types[]=update") == []
    assert await types("?types[]=nonsense") == []
    by_cy = await listed(ana, f"?account_id={cy.id}")
    assert [(n["type"], n["account"]["id"]) for n in by_cy] == [("follow", cy.id)]
    assert await types(f"?account_id={bob.id}&types[]=follow") == ["follow"]


async def test_paging_follows_the_link_header_to_the_end(api_users) -> None:
    ana = await api_users("ana")
    fans = [await api_users(f"fan{i}") for i in range(5)]
    for fan in fans:
        assert (await fan.post(f"/api/v1/accounts/{ana.id}/follow")).status_code == 200
    everything = await listed(ana)
    assert [n["account"]["id"] for n in everything] == [f.id for f in reversed(fans)]

    seen: list[str] = []
    url: str | None = "/api/v1/notifications?limit=2"
    pages = 0
    while url:
        response = await ana.get(url)
        assert response.status_code == 200, response.text
        seen += [n["id"] for n in response.json()]
        url = response.links.get("next", {}).get("url")
        pages += 1
        assert pages < 10
    assert seen == [n["id"] for n in everything] and pages == 3

    ids = [n["id"] for n in everything]
    first = await ana.get("/api/v1/notifications?limit=2")
    assert first.headers["link"].index('rel="next"') < first.headers["link"].index('rel="prev"')
    assert f"min_id={ids[0]}" in first.links["prev"]["url"]
    since = await listed(ana, f"?since_id={ids[3]}&limit=2")
    assert [n["id"] for n in since] == ids[:2]
    oldest_above = await listed(ana, f"?min_id={ids[3]}&limit=2")
    assert [n["id"] for n in oldest_above] == ids[1:3]
    empty = await ana.get(f"/api/v1/notifications?max_id={ids[-1]}")
    assert empty.json() == [] and "link" not in empty.headers


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_get_one_and_not_someone_elses(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    await bob.post(f"/api/v1/accounts/{ana.id}/follow")
    await ana.post(f"/api/v1/accounts/{bob.id}/follow")
    [for_ana] = await listed(ana)
    [for_bob] = await listed(bob)
    one = await ana.get(f"/api/v1/notifications/{for_ana['id']}")
    assert one.status_code == 200, one.text
    assert one.json() == for_ana
    for other in (for_bob["id"], "12345", "nope"):
        response = await ana.get(f"/api/v1/notifications/{other}")
        assert response.status_code == 404, response.text
        assert response.json()["error"]
    async with anonymous(ana.app) as client:
        assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_dismiss_one_then_clear_all(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    await bob.post(f"/api/v1/accounts/{ana.id}/follow")
    await cy.post(f"/api/v1/accounts/{ana.id}/follow")
    await ana.post(f"/api/v1/accounts/{bob.id}/follow")
    newest, oldest = await listed(ana)
    [for_bob] = await listed(bob)

    dismissed = await ana.post(f"/api/v1/notifications/{oldest['id']}/dismiss")
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert [n["id"] for n in await listed(ana)] == [newest["id"]]
    assert (await ana.get(f"/api/v1/notifications/{oldest['id']}")).status_code == 404
    # Someone else's notification is not Ana's to dismiss: not found, and left alone.
    refused = await ana.post(f"/api/v1/notifications/{for_bob['id']}/dismiss")
    assert refused.status_code == 404, refused.text
    assert [n["id"] for n in await listed(bob)] == [for_bob["id"]]

    cleared = await ana.post("/api/v1/notifications/clear")
    assert cleared.status_code == 200 and cleared.json() == {}
    assert await listed(ana) == []
    assert [n["id"] for n in await listed(bob)] == [for_bob["id"]]


async def test_undone_and_deleted_causes_leave_no_notification(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    original = await ana.status("mine")
    await bob.post(f"/api/v1/statuses/{original['id']}/favourite")
    mention = await bob.status("hey @ana")
    assert [n["type"] for n in await listed(ana)] == ["mention", "favourite"]
    await bob.post(f"/api/v1/statuses/{original['id']}/unfavourite")
    await bob.delete(f"/api/v1/statuses/{mention['id']}")
    assert await listed(ana) == []


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_a_read_only_token_cannot_dismiss(app, people) -> None:
    ana = await api_user(app, people, "ana", "read")
    try:
        response = await ana.post("/api/v1/notifications/clear")
        assert response.status_code == 403, response.text
        assert (await ana.get("/api/v1/notifications")).status_code == 200
    finally:
        await ana.close()
