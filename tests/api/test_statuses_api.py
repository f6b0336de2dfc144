"""The statuses API against Mastodon's contract: posting (form and JSON), idempotent retries,
reading, deleting, threads, favourites and reblogs, and the full Status entity."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api_support import MASTODON_TIME, STATUS_FIELDS, VIEWER_FIELDS, anonymous
from twoorl.posts.tables import posts
from twoorl.storage.shards import ShardSet


async def posts_by(shards: ShardSet, author_id: str) -> int:
    """How many posts (reposts included) the databases hold for an author, on every shard."""

    async def count(_shard, conn) -> int:
        return await conn.scalar(
            select(func.count()).select_from(posts).where(posts.c.author_id == int(author_id))
        )

    return sum(await shards.gather(count))


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]


# Creating


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_a_form_post_and_a_json_post_make_the_same_kind_of_status(api_users) -> None:
    ana = await api_users("ana")
    by_form = await ana.post("/api/v1/statuses", data={"status": "from a form"})
    by_json = await ana.post("/api/v1/statuses", json={"status": "from JSON"})
    for response, text in ((by_form, "from a form"), (by_json, "from JSON")):
        assert response.status_code == 200, response.text
        status = response.json()
        assert status["content"] == f"<p>{text}</p>"
        assert status["account"]["id"] == ana.id
        assert status["visibility"] == "public"
    assert int(by_json.json()["id"]) > int(by_form.json()["id"])


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_public_and_unlisted_are_accepted(api_users) -> None:
    ana = await api_users("ana")
    for visibility in ("public", "unlisted", None):
        response = await ana.post(
            "/api/v1/statuses", json={"status": "for everyone", "visibility": visibility}
        )
        assert response.status_code == 200, response.text
        # Every Twoorl post is public, and the answer says what was actually done.
        assert response.json()["visibility"] == "public"


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_followers_only_and_direct_are_refused_not_published(
    api_users, shards, visibility: str
) -> None:
    ana = await api_users("ana")
    response = await ana.post(
        "/api/v1/statuses", data={"status": "secret", "visibility": visibility}
    )
    assert_error(response, 422)
    assert await posts_by(shards, ana.id) == 0


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_options_twoorl_has_no_use_for_are_accepted_when_empty(api_users) -> None:
    ana = await api_users("ana")
    by_form = await ana.post(
        "/api/v1/statuses",
        data={"status": "plain", "sensitive": "true", "spoiler_text": "", "media_ids[]": ""},
    )
    assert by_form.status_code == 200, by_form.text
    by_json = await ana.post(
        "/api/v1/statuses",
        json={"status": "plain too", "sensitive": True, "spoiler_text": "", "media_ids": []},
    )
    assert by_json.status_code == 200, by_json.text
    assert by_json.json()["spoiler_text"] == "" and by_json.json()["media_attachments"] == []


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "body",
    [
        {"status": "hidden", "spoiler_text": "cw"},
        {"status": "with a picture", "media_ids": ["123"]},
        {"status": "with a picture", "media_ids[]": ["123"]},
        {"status": "later", "scheduled_at": "2099-01-01T00:00:00Z"},
    ],
)
async def test_content_warnings_media_and_scheduling_are_refused(
    api_users, shards, body: dict
) -> None:
    ana = await api_users("ana")
    assert_error(await ana.post("/api/v1/statuses", json=body), 422)
    form = {k: v[0] if isinstance(v, list) else v for k, v in body.items()}
    assert_error(await ana.post("/api/v1/statuses", data=form), 422)
    assert await posts_by(shards, ana.id) == 0


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_polls_are_refused_in_either_form(api_users, shards) -> None:
    # toot and Mastodon's web client send a poll as a JSON object; Mastodon.py as a form.
    ana = await api_users("ana")
    as_json = {"status": "tea?", "poll": {"options": ["yes", "no"], "expires_in": 3600}}
    assert_error(await ana.post("/api/v1/statuses", json=as_json), 422)
    as_form = {"status": "tea?", "poll[options][]": ["yes", "no"], "poll[expires_in]": "3600"}
    assert_error(await ana.post("/api/v1/statuses", data=as_form), 422)
    assert await posts_by(shards, ana.id) == 0


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_empty_or_over_long_status_is_a_422_with_an_error(api_users, shards) -> None:
    ana = await api_users("ana")
    for text in ("", "   \n ", "\x00\x07", "x" * 141, "x" * 5_000):
        assert_error(await ana.post("/api/v1/statuses", data={"status": text}), 422)
        assert_error(await ana.post("/api/v1/statuses", json={"status": text}), 422)
    assert_error(await ana.post("/api/v1/statuses", json={}), 422)
    assert_error(await ana.post("/api/v1/statuses", json={"status": None}), 422)
    assert await posts_by(shards, ana.id) == 0
    # Exactly at the limit is fine; a link counts as 23 however long it is.
    assert (await ana.post("/api/v1/statuses", json={"status": "x" * 140})).status_code == 200
    link = "https://example.org/" + "a" * 200
    assert (await ana.post("/api/v1/statuses", json={"status": link})).status_code == 200


async def test_a_reply_names_its_parent_and_a_missing_parent_is_a_404(api_users, shards) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    parent = await ana.status("first")
    reply = await bob.status("@ana indeed", in_reply_to_id=parent["id"])
    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == ana.id
    missing = str(int(parent["id"]) + 1)
    assert_error(
        await bob.post("/api/v1/statuses", json={"status": "hm", "in_reply_to_id": missing}), 404
    )
    assert await posts_by(shards, bob.id) == 1
    replied = (await ana.get(f"/api/v1/statuses/{parent['id']}")).json()
    assert replied["replies_count"] == 1


# Idempotency-Key


async def test_the_same_idempotency_key_makes_one_post(api_users, shards) -> None:
    ana = await api_users("ana")
    key = {"Idempotency-Key": "retry-1"}
    first = await ana.post("/api/v1/statuses", data={"status": "once"}, headers=key)
    again = await ana.post("/api/v1/statuses", data={"status": "once"}, headers=key)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["id"] == again.json()["id"]
    assert await posts_by(shards, ana.id) == 1
    other = await ana.post(
        "/api/v1/statuses", data={"status": "once"}, headers={"Idempotency-Key": "retry-2"}
    )
    assert other.json()["id"] != first.json()["id"]
    assert await posts_by(shards, ana.id) == 2


@pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)
async def test_a_key_whose_post_was_deleted_makes_a_new_post(api_users, shards) -> None:
    # Mastodon looks the key's status up among the author's current ones: a deleted one is
    # no duplicate, so the retry posts afresh (and must not fail).
    ana = await api_users("ana")
    key = {"Idempotency-Key": "reused"}
    first = await ana.post("/api/v1/statuses", data={"status": "first try"}, headers=key)
    assert (await ana.delete(f"/api/v1/statuses/{first.json()['id']}")).status_code == 200
    again = await ana.post("/api/v1/statuses", data={"status": "second try"}, headers=key)
    assert again.status_code == 200, again.text
    assert again.json()["id"] != first.json()["id"]
    assert again.json()["content"] == "<p>second try</p>"
    repeat = await ana.post("/api/v1/statuses", data={"status": "second try"}, headers=key)
    assert repeat.json()["id"] == again.json()["id"]
    assert await posts_by(shards, ana.id) == 1


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_keys_are_per_account(api_users, shards) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    key = {"Idempotency-Key": "same-key"}
    by_ana = await ana.post("/api/v1/statuses", data={"status": "mine"}, headers=key)
    by_bob = await bob.post("/api/v1/statuses", data={"status": "mine"}, headers=key)
    assert by_bob.json()["account"]["id"] == bob.id
    assert by_ana.json()["id"] != by_bob.json()["id"]


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_concurrent_duplicates_make_one_post(api_users, shards) -> None:
    ana = await api_users("ana")
    key = {"Idempotency-Key": "double-tap"}
    answers = await asyncio.gather(
        *(ana.post("/api/v1/statuses", json={"status": "tap"}, headers=key) for _ in range(5))
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await posts_by(shards, ana.id) == 1


# Reading and deleting


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_every_status_field_is_present_and_well_formed(app, api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    before = datetime.now(UTC)
    made = await ana.status("hi @bob, see https://example.org/x #Tea")
    signed_in = (await bob.get(f"/api/v1/statuses/{made['id']}")).json()
    assert set(signed_in) >= STATUS_FIELDS | VIEWER_FIELDS, set(signed_in) ^ STATUS_FIELDS
    assert signed_in["favourited"] is False and signed_in["reblogged"] is False
    assert signed_in["muted"] is False and signed_in["bookmarked"] is False
    assert signed_in["id"].isdigit() and signed_in["account"]["id"].isdigit()
    assert MASTODON_TIME.match(signed_in["created_at"]), signed_in["created_at"]
    created = datetime.strptime(signed_in["created_at"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert signed_in["url"] == f"http://testserver/@ana/{made['id']}"
    assert signed_in["uri"].startswith("http://testserver/")
    assert signed_in["mentions"] == [
        {"id": bob.id, "username": "bob", "url": "http://testserver/@bob", "acct": "bob"}
    ]
    assert signed_in["tags"] == [{"name": "tea", "url": "http://testserver/tags/tea"}]
    hrefs = re.findall(r'href="([^"]+)"', signed_in["content"])
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
    assert "http://testserver/@bob" in hrefs and "https://example.org/x" in hrefs
    for empty in ("media_attachments", "emojis"):
        assert signed_in[empty] == []
    assert signed_in["reblog"] is None and signed_in["poll"] is None
    # Anonymous readers get the entity without the viewer's own fields.
    async with anonymous(app) as client:
        public = (await client.get(f"/api/v1/statuses/{made['id']}")).json()
    assert set(public) >= STATUS_FIELDS
    assert all(public.get(name) is None for name in VIEWER_FIELDS)


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_content_escapes_what_people_write(api_users) -> None:
    ana = await api_users("ana")
    made = await ana.status('<script>alert("x")</script> & <b>bold</b>')
    content = (await ana.get(f"/api/v1/statuses/{made['id']}")).json()["content"]
    assert "<script>" not in content and "<b>" not in content
    assert "&lt;script&gt;" in content and "&amp;" in content


@pytest.mark.parametrize("shard_urls", ["sqlite", "postgres3"], indirect=True)
async def test_get_an_unknown_or_malformed_id_is_a_404(api_users) -> None:
    ana = await api_users("ana")
    made = await ana.status("here")
    for wrong in (str(int(made["id"]) + 1), "nope", "0", "-5", "9" * 30):
        assert_error(await ana.get(f"/api/v1/statuses/{wrong}"), 404)


async def test_delete_returns_the_status_with_its_text_then_it_is_gone(api_users, shards) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await ana.status("regret #this")
    assert_error(await bob.delete(f"/api/v1/statuses/{made['id']}"), 403)
    assert (await bob.get(f"/api/v1/statuses/{made['id']}")).status_code == 200
    gone = await ana.delete(f"/api/v1/statuses/{made['id']}")
    assert gone.status_code == 200, gone.text
    assert gone.json()["id"] == made["id"] and gone.json()["text"] == "regret #this"
    assert_error(await ana.get(f"/api/v1/statuses/{made['id']}"), 404)
    assert_error(await ana.delete(f"/api/v1/statuses/{made['id']}"), 404)
    assert await posts_by(shards, ana.id) == 0


async def test_context_lists_ancestors_and_descendants_oldest_first(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    root = await ana.status("root")
    middle = await bob.status("@ana middle", in_reply_to_id=root["id"])
    leaf_one = await cy.status("@bob one", in_reply_to_id=middle["id"])
    leaf_two = await ana.status("@bob two", in_reply_to_id=middle["id"])
    context = await cy.get(f"/api/v1/statuses/{middle['id']}/context")
    assert context.status_code == 200, context.text
    assert [s["id"] for s in context.json()["ancestors"]] == [root["id"]]
    assert [s["id"] for s in context.json()["descendants"]] == [leaf_one["id"], leaf_two["id"]]
    leaf = (await cy.get(f"/api/v1/statuses/{leaf_two['id']}/context")).json()
    assert [s["id"] for s in leaf["ancestors"]] == [root["id"], middle["id"]]
    assert leaf["descendants"] == []
    assert_error(await cy.get(f"/api/v1/statuses/{int(root['id']) + 1}/context"), 404)


async def test_descendants_are_the_whole_tree_depth_first(api_users) -> None:
    # Mastodon lists every reply below a post, not only the direct ones, each branch in turn.
    ana, bob = await api_users("ana"), await api_users("bob")
    root = await ana.status("root")
    a = await bob.status("a", in_reply_to_id=root["id"])
    b = await ana.status("b", in_reply_to_id=root["id"])
    a1 = await ana.status("a1", in_reply_to_id=a["id"])
    a1x = await bob.status("a1x", in_reply_to_id=a1["id"])
    b1 = await bob.status("b1", in_reply_to_id=b["id"])
    a2 = await bob.status("a2", in_reply_to_id=a["id"])
    context = (await bob.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [x["id"] for x in (a, a1, a1x, a2, b, b1)]
    middle = (await ana.get(f"/api/v1/statuses/{a1['id']}/context")).json()
    assert [s["id"] for s in middle["ancestors"]] == [root["id"], a["id"]]
    assert [s["id"] for s in middle["descendants"]] == [a1x["id"]]
    # A deleted reply takes its branch out of the thread.
    await ana.delete(f"/api/v1/statuses/{a1['id']}")
    pruned = (await bob.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert [s["id"] for s in pruned["descendants"]] == [a["id"], a2["id"], b["id"], b1["id"]]


async def test_replying_to_a_reblog_replies_to_the_original(api_users) -> None:
    ana, bob, cy = await api_users("ana"), await api_users("bob"), await api_users("cy")
    original = await ana.status("worth sharing")
    wrapper = (await bob.post(f"/api/v1/statuses/{original['id']}/reblog")).json()
    reply = await cy.status("@ana agreed", in_reply_to_id=wrapper["id"])
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["in_reply_to_account_id"] == ana.id
    context = (await ana.get(f"/api/v1/statuses/{original['id']}/context")).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    # The thread of a reblog is the original's.
    via_wrapper = (await ana.get(f"/api/v1/statuses/{wrapper['id']}/context")).json()
    assert [s["id"] for s in via_wrapper["descendants"]] == [reply["id"]]


# Favourites and reblogs


async def test_favourite_and_unfavourite(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await ana.status("like me")
    liked = await bob.post(f"/api/v1/statuses/{made['id']}/favourite")
    assert liked.status_code == 200, liked.text
    assert liked.json()["favourited"] is True and liked.json()["favourites_count"] == 1
    # Twice is still once.
    again = (await bob.post(f"/api/v1/statuses/{made['id']}/favourite")).json()
    assert again["favourites_count"] == 1
    seen_by_ana = (await ana.get(f"/api/v1/statuses/{made['id']}")).json()
    assert seen_by_ana["favourites_count"] == 1 and seen_by_ana["favourited"] is False
    undone = (await bob.post(f"/api/v1/statuses/{made['id']}/unfavourite")).json()
    assert undone["favourited"] is False and undone["favourites_count"] == 0
    assert (await ana.get(f"/api/v1/statuses/{made['id']}")).json()["favourites_count"] == 0
    assert_error(await bob.post(f"/api/v1/statuses/{int(made['id']) + 1}/favourite"), 404)


async def test_reblog_answers_the_wrapper_and_unreblog_the_original(api_users) -> None:
    ana, bob = await api_users("ana"), await api_users("bob")
    made = await ana.status("share me")
    shared = await bob.post(f"/api/v1/statuses/{made['id']}/reblog")
    assert shared.status_code == 200, shared.text
    wrapper = shared.json()
    assert wrapper["id"] != made["id"] and wrapper["account"]["id"] == bob.id
    assert wrapper["reblog"]["id"] == made["id"]
    assert wrapper["reblog"]["account"]["id"] == ana.id
    assert wrapper["reblog"]["reblogged"] is True and wrapper["reblog"]["reblogs_count"] == 1
    assert wrapper["reblogged"] is True
    # Reblogging again is the same reblog.
    again = (await bob.post(f"/api/v1/statuses/{made['id']}/reblog")).json()
    assert again["id"] == wrapper["id"]
    # The wrapper can be read by its own id, and reblogging it reblogs the original.
    by_wrapper = (await bob.get(f"/api/v1/statuses/{wrapper['id']}")).json()
    assert by_wrapper["reblog"]["id"] == made["id"]
    undone = await bob.post(f"/api/v1/statuses/{made['id']}/unreblog")
    assert undone.status_code == 200, undone.text
    assert undone.json()["id"] == made["id"] and undone.json()["reblogged"] is False
    assert undone.json()["reblogs_count"] == 0
    assert (await bob.get(f"/api/v1/statuses/{wrapper['id']}")).status_code == 404
    # Deleting the wrapper (as Mastodon's own client does) undoes a reblog too.
    wrapper = (await bob.post(f"/api/v1/statuses/{made['id']}/reblog")).json()
    deleted = await bob.delete(f"/api/v1/statuses/{wrapper['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == wrapper["id"]
    assert deleted.json()["reblog"]["id"] == made["id"]
    original = (await bob.get(f"/api/v1/statuses/{made['id']}")).json()
    assert original["reblogged"] is False and original["reblogs_count"] == 0


async def test_favourited_by_and_reblogged_by_page_through_accounts(api_users) -> None:
    ana = await api_users("ana")
    made = await ana.status("popular")
    fans = [await api_users(f"fan{i}") for i in range(5)]
    for fan in fans:
        assert (await fan.post(f"/api/v1/statuses/{made['id']}/favourite")).status_code == 200
    for fan in fans[:2]:
        assert (await fan.post(f"/api/v1/statuses/{made['id']}/reblog")).status_code == 200

    seen: list[str] = []
    url: str | None = f"/api/v1/statuses/{made['id']}/favourited_by?limit=2"
    pages = 0
    while url:
        page = await ana.get(url)
        assert page.status_code == 200, page.text
        seen += [account["id"] for account in page.json()]
        assert all(account["username"].startswith("fan") for account in page.json())
        url = page.links.get("next", {}).get("url")
        pages += 1
        assert pages < 10, "paging never ends"
    assert sorted(seen) == sorted(f.id for f in fans) and len(seen) == len(set(seen))
    assert pages == 3
    # ``prev`` from the last page leads back up, to the accounts not yet on it.
    last = await ana.get(f"/api/v1/statuses/{made['id']}/favourited_by?limit=2&max_id={seen[3]}")
    assert [a["id"] for a in last.json()] == seen[4:]
    back = await ana.get(last.links["prev"]["url"])
    assert [a["id"] for a in back.json()] == seen[2:4]
    newest = await ana.get(f"/api/v1/statuses/{made['id']}/favourited_by?since_id={seen[2]}")
    assert [a["id"] for a in newest.json()] == seen[:2]

    reblogged = await ana.get(f"/api/v1/statuses/{made['id']}/reblogged_by")
    assert sorted(a["id"] for a in reblogged.json()) == sorted(f.id for f in fans[:2])
    assert "next" not in reblogged.links
    # Asking about the reblog wrapper answers about the original.
    wrapper = (await fans[0].post(f"/api/v1/statuses/{made['id']}/reblog")).json()
    via_wrapper = await ana.get(f"/api/v1/statuses/{wrapper['id']}/reblogged_by")
    assert sorted(a["id"] for a in via_wrapper.json()) == sorted(f.id for f in fans[:2])
