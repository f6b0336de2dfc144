"""Blocks and mutes through the Mastodon API, on three shards (SQLite and PostgreSQL): block,
unblock, mute and unmute with their scopes; GET /api/v1/blocks and /mutes paged by Link; the
relationship flags; and the effects on follows, replies, timelines and notifications."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from test_streaming_api import live_url, opened, wait_for_subscribers  # noqa: F401 (a fixture)

pytestmark = pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)

LINK_RE = re.compile(r'<([^>]+)>; rel="(\w+)"')
FLAGS = ("following", "followed_by", "blocking", "blocked_by", "muting", "muting_notifications")


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK_RE.findall(response.headers.get("link", ""))}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def flags(relationship: dict) -> set[str]:
    return {name for name in FLAGS if relationship[name]}


async def relationship(me, other) -> dict:
    response = await me.get("/api/v1/accounts/relationships", params={"id[]": other.id})
    assert response.status_code == 200, response.text
    (found,) = response.json()
    assert found["id"] == other.id
    return found


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


async def test_block_and_mute_set_the_relationship_flags(app, api_users) -> None:
    ana, bo = await api_users("ana"), await api_users("bo")
    await ana.post(f"/api/v1/accounts/{bo.id}/follow")
    await bo.post(f"/api/v1/accounts/{ana.id}/follow")
    assert flags(await relationship(ana, bo)) == {"following", "followed_by"}

    blocked = await ana.post(f"/api/v1/accounts/{bo.id}/block")
    assert blocked.status_code == 200, blocked.text
    assert flags(blocked.json()) == {"blocking"}  # and the follows both ways are gone
    assert flags(await relationship(bo, ana)) == {"blocked_by"}
    me = (await ana.get("/api/v1/accounts/verify_credentials")).json()
    assert me["following_count"] == 0 and me["followers_count"] == 0

    assert "blocked you" in error_of(await bo.post(f"/api/v1/accounts/{ana.id}/follow"), 403)
    assert flags((await ana.post(f"/api/v1/accounts/{bo.id}/mute")).json()) == {
        "blocking",
        "muting",
        "muting_notifications",
    }
    assert flags((await ana.post(f"/api/v1/accounts/{bo.id}/unblock")).json()) == {
        "muting",
        "muting_notifications",
    }
    assert flags((await ana.post(f"/api/v1/accounts/{bo.id}/unmute")).json()) == set()
    assert (await bo.post(f"/api/v1/accounts/{ana.id}/follow")).json()["following"] is True

    assert error_of(await ana.post(f"/api/v1/accounts/{ana.id}/block"), 422)
    assert error_of(await ana.post("/api/v1/accounts/12345/mute"), 404)


async def test_blocks_and_mutes_lists_page_with_link(app, api_users) -> None:
    ana = await api_users("ana")
    others = [await api_users(f"p{i}") for i in range(5)]
    for other in others:
        assert (await ana.post(f"/api/v1/accounts/{other.id}/block")).status_code == 200
    await ana.post(f"/api/v1/accounts/{others[0].id}/mute")

    seen, path = [], "/api/v1/blocks?limit=2"
    while True:
        response = await ana.get(path)
        assert response.status_code == 200, response.text
        seen += [account["id"] for account in response.json()]
        if "next" not in links(response):
            break
        path = path_of(links(response)["next"])
    assert sorted(seen) == sorted(o.id for o in others) and len(seen) == 5
    muted = (await ana.get("/api/v1/mutes")).json()
    assert [account["username"] for account in muted] == ["p0"]
    assert (await others[1].get("/api/v1/blocks")).json() == []  # one's own lists only


async def test_scopes(app, api_users) -> None:
    reader = await api_users("reader", scopes="read")
    writer = await api_users("writer", scopes="write:blocks read:blocks")
    other = await api_users("other")
    assert error_of(await reader.post(f"/api/v1/accounts/{other.id}/block"), 403)
    assert error_of(await reader.post(f"/api/v1/accounts/{other.id}/mute"), 403)
    assert (await reader.get("/api/v1/mutes")).status_code == 200
    assert (await writer.post(f"/api/v1/accounts/{other.id}/block")).status_code == 200
    assert error_of(await writer.post(f"/api/v1/accounts/{other.id}/mute"), 403)
    assert error_of(await writer.get("/api/v1/mutes"), 403)
    assert [a["id"] for a in (await writer.get("/api/v1/blocks")).json()] == [other.id]


async def test_blocked_replies_and_notifications(app, api_users) -> None:
    ana, bo, cy = await api_users("ana"), await api_users("bo"), await api_users("cy")
    post = await ana.status("ana's post")
    await ana.post(f"/api/v1/accounts/{bo.id}/block")
    refused = await bo.post(
        "/api/v1/statuses", data={"status": "@ana hi", "in_reply_to_id": post["id"]}
    )
    assert "cannot reply" in error_of(refused, 403)
    await bo.status("@ana look")
    await bo.post(f"/api/v1/statuses/{post['id']}/favourite")
    await cy.status("@ana from cy")
    found = (await ana.get("/api/v1/notifications")).json()
    assert [(n["type"], n["account"]["username"]) for n in found] == [("mention", "cy")]


async def test_muted_statuses_and_notifications_are_left_out(app, api_users) -> None:
    ana, bo, cy = await api_users("ana"), await api_users("bo"), await api_users("cy")
    await ana.post(f"/api/v1/accounts/{bo.id}/follow")
    await cy.post(f"/api/v1/accounts/{bo.id}/follow")
    bo_post = await bo.status("bo on #cats @ana")
    await ana.post(f"/api/v1/accounts/{bo.id}/mute")

    def texts(response) -> list[str]:
        assert response.status_code == 200, response.text
        return [s["content"] for s in response.json()]

    for path in (
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/cats",
    ):
        assert not any("bo on" in t for t in texts(await ana.get(path))), path
        assert any("bo on" in t for t in texts(await cy.get(path))), path
    assert (await ana.get("/api/v1/notifications")).json() == []
    # Asked for by id, or on the muted person's own profile, their posts still show.
    assert (await ana.get(f"/api/v1/statuses/{bo_post['id']}")).status_code == 200
    assert texts(await ana.get(f"/api/v1/accounts/{bo.id}/statuses"))

    await ana.post(f"/api/v1/accounts/{bo.id}/unmute")
    assert any("bo on" in t for t in texts(await ana.get("/api/v1/timelines/home")))
    assert [n["type"] for n in (await ana.get("/api/v1/notifications")).json()] == ["mention"]


async def test_the_blocked_see_nothing_of_the_blocker(app, api_users) -> None:
    ana, bo, cy = await api_users("ana"), await api_users("bo"), await api_users("cy")
    await ana.status("ana on #quinces")

    def texts(response) -> list[str]:
        assert response.status_code == 200, response.text
        return [s["content"] for s in response.json()]

    paths = (
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/quinces",
        f"/api/v1/accounts/{ana.id}/statuses",
    )
    for path in paths:
        assert any("ana on" in t for t in texts(await bo.get(path))), path
    post_id = (await bo.get(paths[2])).json()[0]["id"]
    assert (await bo.get("/api/v2/search", params={"q": "quinces"})).json()["statuses"]
    await ana.post(f"/api/v1/accounts/{bo.id}/block")
    assert flags(await relationship(bo, ana)) == {"blocked_by"}
    for path in paths:
        assert not any("ana on" in t for t in texts(await bo.get(path))), path
        assert any("ana on" in t for t in texts(await cy.get(path))), path
    found = (await bo.get("/api/v2/search", params={"q": "quinces"})).json()
    assert found["statuses"] == []
    # As on Mastodon: her post is not found for him, and he cannot favourite or reblog it.
    for path in (f"/api/v1/statuses/{post_id}", f"/api/v1/statuses/{post_id}/context"):
        assert (await bo.get(path)).status_code == 404, path
        assert (await cy.get(path)).status_code == 200, path
    for action in ("favourite", "reblog"):
        refused = await bo.post(f"/api/v1/statuses/{post_id}/{action}")
        assert refused.status_code == 403 and "error" in refused.json(), action

    await ana.post(f"/api/v1/accounts/{bo.id}/unblock")
    for path in paths:
        assert any("ana on" in t for t in texts(await bo.get(path))), path


async def test_the_public_stream_leaves_out_muted_people(app, live_url, api_users) -> None:  # noqa: F811
    ana, bo, cy = await api_users("ana"), await api_users("bo"), await api_users("cy")
    await ana.post(f"/api/v1/accounts/{bo.id}/mute")
    async with (
        opened(live_url, "/api/v1/streaming/public", ana.token) as muter,
        opened(live_url, "/api/v1/streaming/public", cy.token) as other,
    ):
        await wait_for_subscribers(app, "posts", count=2)
        muted = await bo.status("bo live")
        shown = await cy.status("cy live")
        assert json.loads((await muter.next())[1])["id"] == shown["id"]
        assert [json.loads((await other.next())[1])["id"] for _ in range(2)] == [
            muted["id"],
            shown["id"],
        ]
