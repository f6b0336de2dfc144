"""Reports: a "Report" action on every post and profile sends a reason and a comment to the
moderators' queue; resolving records the outcome (and, if chosen, acts on it)."""

from __future__ import annotations

import re

import pytest
from web_support import send

from twoorl.accounts import service as accounts
from twoorl.moderation import reports
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role
from twoorl.posts.service import get_post

ONE_BACKEND = pytest.mark.parametrize("shard_urls", ["sqlite"], indirect=True)


async def post_ids_of(person) -> list[int]:
    page = await person.get(f"/@{person.username}")
    return [int(i) for i in re.findall(r'data-post-id="(\d+)"', page.text)]


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_report_a_post_then_a_moderator_resolves_it(app, people, shards) -> None:
    author = await people("author")
    await author.post("a post that breaks the rules")
    (post_id,) = await post_ids_of(author)
    reader = await people("reader")
    page = (await reader.get("/public")).text
    assert f'href="/report?post={post_id}"' in page
    assert f'href="/report?post={post_id}"' not in (await author.get("/public")).text

    form = await reader.get(f"/report?post={post_id}")
    assert form.status_code == 200 and "Report @author" in form.text
    sent = await send(
        reader, "/report", {"post": str(post_id), "category": "abuse", "comment": "<b>rude</b>"}
    )
    assert sent.status_code == 200 and "Your report is with the moderators." in sent.text

    await people("mod")
    await moderation.grant_role(
        shards, None, await accounts.get_by_username(shards, "mod"), Role.MODERATOR
    )
    mod = await people()
    await mod.login("mod")
    queue = await mod.get("/admin/reports")
    assert "a post that breaks the rules" in queue.text
    assert "&lt;b&gt;rude&lt;/b&gt;" in queue.text  # the comment is escaped
    (report,) = await reports.queue(shards)
    resolved = await send(
        mod,
        f"/admin/reports/{report.id}/resolve",
        {"decision": "delete_post", "outcome": "removed: insults"},
    )
    assert resolved.status_code == 303
    assert await get_post(shards, post_id) is None
    assert await reports.queue(shards) == []
    (closed,) = await reports.queue(shards, resolved=True)
    assert closed.outcome == "removed: insults"
    log = (await mod.get("/admin/log")).text
    assert "Report resolved" in log and "Post deleted" in log and "removed: insults" in log
    # Resolving twice finds nothing open.
    again = await send(mod, f"/admin/reports/{report.id}/resolve", {"outcome": "again"})
    assert again.status_code == 404


@ONE_BACKEND
async def test_report_a_profile_and_bad_reports_are_refused(people, shards) -> None:
    await people("target")
    reporter = await people("reporter")
    profile = (await reporter.get("/@target")).text
    assert 'href="/report?account=target"' in profile
    no_reason = await send(reporter, "/report", {"account": "target", "comment": "hm"})
    assert no_reason.status_code == 422 and "Choose what is wrong." in no_reason.text
    myself = await send(reporter, "/report", {"account": "reporter", "category": "spam"})
    assert myself.status_code == 422
    missing = await send(reporter, "/report", {"post": "12345", "category": "spam"})
    assert missing.status_code == 404
    ok = await send(reporter, "/report", {"account": "@target", "category": "spam"})
    assert ok.status_code == 200
    (report,) = await reports.queue(shards)
    assert (report.category, report.target_post_id) == ("spam", None)
    signed_out = await people()
    assert (await signed_out.get("/report?account=target")).status_code == 303


@ONE_BACKEND
async def test_an_app_reports_posts_through_the_mastodon_api(api_users, shards) -> None:
    author = await api_users("author")
    status = await author.status("spammy spam")
    reporter = await api_users("reporter")
    answer = await reporter.post(
        "/api/v1/reports",
        data={
            "account_id": author.id,
            "status_ids[]": status["id"],
            "comment": "ads",
            "category": "spam",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["category"], body["status_ids"], body["target_account"]["username"]) == (
        "spam",
        [status["id"]],
        "author",
    )
    (report,) = await reports.queue(shards)
    assert (report.target_post_id, report.comment) == (int(status["id"]), "ads")
    read_only = await api_users("watcher", scopes="read")
    refused = await read_only.post("/api/v1/reports", data={"account_id": author.id})
    assert refused.status_code == 403
