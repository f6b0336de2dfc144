"""The moderators' pages: nobody below moderator gets in (403 on every route and action), a
moderator runs the community from the browser (find, mark spam, suspend, delete a post,
read the log, retry failed jobs), and only admins grant roles."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import insert, select
from web_support import account_id, send

from twoorl.accounts import service as accounts
from twoorl.ids import new_id
from twoorl.jobs.tables import jobs
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role
from twoorl.posts.service import get_post
from twoorl.storage.types import utcnow

ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)


async def make_moderator(people, shards, username: str, role: Role = Role.MODERATOR):
    person = await people(username)
    account = await accounts.get_by_username(shards, username)
    await moderation.grant_role(shards, None, account, role)
    return person


def admin_routes(target_id: int, post_id: int, job_id: int) -> list[tuple[str, str]]:
    posts = [f"/admin/accounts/{target_id}/{action}" for action in moderation_actions()]
    return [
        ("GET", "/admin"),
        ("GET", "/admin?q=a"),
        ("GET", "/admin/log"),
        ("GET", "/admin/jobs"),
        *[("POST", path) for path in posts],
        ("POST", f"/admin/accounts/{target_id}/role"),
        ("POST", f"/admin/posts/{post_id}/delete"),
        ("POST", f"/admin/jobs/{job_id}/retry"),
    ]


def moderation_actions() -> tuple[str, ...]:
    return ("spam", "unspam", "suspend", "unsuspend")


@ONE_BACKEND
async def test_nobody_below_moderator_gets_in(app, people, shards) -> None:
    ordinary = await people("ordinary")
    victim = await people("victim")
    await victim.post("please do not delete me")
    target = await account_id(shards, "victim")
    post_id = (await timeline_ids(victim))[0]
    routes = admin_routes(target, post_id, 1)
    for method, path in routes:
        if method == "GET":
            answer = await ordinary.get(path)
        else:
            answer = await send(ordinary, path, {"reason": "x", "role": "admin"})
        assert answer.status_code == 403, (method, path, answer.status_code)
    stranger = await people()  # not signed in
    for method, path in routes:
        answer = await (stranger.get(path) if method == "GET" else stranger.client.post(path))
        assert answer.status_code == 303, (method, path)  # sent to sign in first
        assert answer.headers["location"].startswith("/login"), (method, path)
    # Nothing happened.
    assert (await accounts.get_by_username(shards, "victim")).spam is False
    assert (await accounts.get_by_username(shards, "ordinary")).role == "user"
    assert await get_post(shards, post_id) is not None
    assert (await moderation.log_page(shards))[0] == []


async def timeline_ids(person) -> list[int]:
    page = await person.get(f"/@{person.username}")
    return [int(i) for i in re.findall(r'data-post-id="(\d+)"', page.text)]


@ONE_BACKEND
async def test_a_moderator_cannot_grant_roles(people, shards) -> None:
    mod = await make_moderator(people, shards, "mod")
    await people("friend")
    answer = await send(
        mod, f"/admin/accounts/{await account_id(shards, 'friend')}/role", {"role": "admin"}
    )
    assert answer.status_code == 403
    assert (await accounts.get_by_username(shards, "friend")).role == "user"
    assert 'action="/admin/accounts/' in (await mod.get("/admin")).text
    assert 'name="role"' not in (await mod.get("/admin")).text  # no role menu for moderators


@ONE_BACKEND
async def test_actions_are_offered_only_on_people_the_moderator_outranks(people, shards) -> None:
    boss = await make_moderator(people, shards, "boss", Role.ADMIN)
    mod = await make_moderator(people, shards, "mod")
    await make_moderator(people, shards, "peer")
    await people("plain")
    ids = {name: await account_id(shards, name) for name in ("boss", "mod", "peer", "plain")}

    def acted_on(page: str) -> set[str]:
        found = set(re.findall(r'action="/admin/accounts/(\d+)/', page))
        return {name for name, i in ids.items() if str(i) in found}

    assert acted_on((await mod.get("/admin")).text) == {"plain"}
    page = (await boss.get("/admin")).text
    assert acted_on(page) == {"mod", "peer", "plain"}
    # Roles by name, in the reader's language.
    assert '<span class="role-badge">Moderator</span>' in page and ">Admin</option>" in page


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_a_moderator_runs_the_community_from_the_browser(app, people, shards) -> None:
    mod = await make_moderator(people, shards, "mod")
    spammer = await people("spammer")
    await spammer.post("buy cheap watches")
    troll = await people("troll")
    await troll.post("a nasty post")
    found = await mod.get("/admin?q=spam")
    assert "@spammer" in found.text and "@troll" not in found.text

    spam_id = await account_id(shards, "spammer")
    marked = await send(
        mod, f"/admin/accounts/{spam_id}/spam", {"reason": "watches", "next": "/admin?q=spam"}
    )
    assert marked.status_code == 303 and marked.headers["location"] == "/admin?q=spam"
    await app.state.services.worker.drain()
    assert "buy cheap watches" not in (await mod.get("/public")).text

    troll_id = await account_id(shards, "troll")
    nasty = (await timeline_ids(troll))[0]
    removed = await send(mod, f"/admin/posts/{nasty}/delete", {"reason": "abuse"})
    assert removed.status_code == 303
    assert await get_post(shards, nasty) is None
    suspended = await send(mod, f"/admin/accounts/{troll_id}/suspend", {"reason": "repeated abuse"})
    assert suspended.status_code == 303
    assert (await troll.get("/settings")).status_code == 303  # signed out

    log = (await mod.get("/admin/log")).text
    for expected in (
        "Marked as spam",
        "watches",
        "Post deleted",
        "abuse",
        "Suspended",
        "repeated abuse",
        "@mod",
    ):
        assert expected in log, expected
    # Labels, not codes, in the reader's language.
    assert "mark_spam" not in log
    french = (await mod.get("/admin/log", headers={"Accept-Language": "fr"})).text
    assert "Marqué comme spam" in french and "Marked as spam" not in french


@ONE_BACKEND
async def test_failed_jobs_are_listed_and_retried(app, people, shards) -> None:
    admin = await make_moderator(people, shards, "boss", Role.ADMIN)
    job_id = new_id(0)
    async with shards.for_id(job_id).write() as conn:
        await conn.execute(
            insert(jobs).values(
                id=job_id,
                kind="posts.link",
                payload=json.dumps({"post_id": 1}),
                attempts=8,
                run_after=utcnow(),
                failed_at=utcnow(),
                last_error="ConnectionError: the shard went away",
            )
        )
    page = (await admin.get("/admin/jobs")).text
    assert "posts.link" in page and "the shard went away" in page
    retried = await send(admin, f"/admin/jobs/{job_id}/retry")
    assert retried.status_code == 303
    async with shards.for_id(job_id).read() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
    # Re-queued, then run by the worker (the post it names is gone, so it just finishes).
    assert row is None or (row.failed_at is None and row.attempts <= 1)
