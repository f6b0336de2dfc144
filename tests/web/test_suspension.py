"""Roles and suspension at the service level (the /admin pages come on top): a suspended
person cannot sign in (with a clear message) or post, their sessions and app tokens stop
working at once, and every action lands in the audit log. Moderators cannot grant roles nor
act on their equals."""

from __future__ import annotations

import pytest
from web_support import account_id

from api_support import api_user
from twoorl.accounts import service as accounts
from twoorl.errors import Forbidden
from twoorl.moderation import service as moderation
from twoorl.moderation.roles import Role

SUSPENDED = "This account is suspended. It cannot sign in or post."


async def promote(shards, username: str, role: Role):
    account = await accounts.get_by_username(shards, username)
    await moderation.grant_role(shards, None, account, role)
    return await accounts.get_by_username(shards, username)


@pytest.mark.parametrize("shard_urls", ["sqlite3", "postgres3"], indirect=True)
async def test_a_suspended_person_is_signed_out_everywhere(app, people, shards) -> None:
    await people("mod")
    moderator = await promote(shards, "mod", Role.MODERATOR)
    spammer = await people("spammer")
    client = await api_user(app, people, "spammer2")
    target = await accounts.get_by_username(shards, "spammer")
    target_api = await accounts.get_by_username(shards, "spammer2")

    await moderation.suspend(shards, moderator, target, "selling watches")
    await moderation.suspend(shards, moderator, target_api, "selling watches")

    # The browser's session is over: pages that need a person send to the login page.
    assert (await spammer.get("/settings")).status_code == 303
    refused = await spammer.login()
    assert refused.status_code == 403
    assert SUSPENDED in refused.text
    # The app's token is revoked, and logging in again through the API is refused too.
    assert (await client.get("/api/v1/accounts/verify_credentials")).status_code == 401
    posted = await client.post("/api/v1/statuses", data={"status": "buy now"})
    assert posted.status_code == 401
    await client.close()

    log, _cursor = await moderation.log_page(shards)
    assert [(e.action, e.actor_id, e.reason) for e in log] == [
        ("suspend", moderator.id, "selling watches"),
        ("suspend", moderator.id, "selling watches"),
        ("grant_moderator", None, ""),
    ]
    assert log[1].target_account_id == await account_id(shards, "spammer")

    await moderation.unsuspend(shards, moderator, target, "appeal accepted")
    assert (await spammer.login()).status_code == 303


async def test_moderators_cannot_grant_roles_nor_act_on_their_equals(people, shards) -> None:
    await people("ada")
    await people("bea")
    await people("cyd")
    ada = await promote(shards, "ada", Role.MODERATOR)
    bea = await promote(shards, "bea", Role.MODERATOR)
    cyd = await accounts.get_by_username(shards, "cyd")
    with pytest.raises(Forbidden):
        await moderation.grant_role(shards, ada, cyd, Role.MODERATOR)
    with pytest.raises(Forbidden):
        await moderation.suspend(shards, ada, bea, "a coup")
    with pytest.raises(Forbidden):
        await moderation.mark_spam(shards, cyd, ada, True)  # not a moderator at all
    await moderation.mark_spam(shards, ada, cyd, True, "link farm")
    assert (await accounts.get_by_username(shards, "cyd")).spam is True
    assert (await accounts.get_by_username(shards, "bea")).role == "moderator"
    admin = await promote(shards, "ada", Role.ADMIN)
    await moderation.grant_role(shards, admin, cyd, Role.MODERATOR, "trusted")
    assert (await accounts.get_by_username(shards, "cyd")).role == "moderator"


async def test_a_suspended_profile_says_so_and_shows_no_posts(people, shards) -> None:
    eve = await people("eve")
    await eve.post("my last post before suspension")
    viewer = await people("vic")
    target = await accounts.get_by_username(shards, "eve")
    await moderation.suspend(shards, None, target, "spam")
    page = await viewer.get("/@eve")
    assert page.status_code == 200
    assert "This account is suspended." in page.text
    assert "my last post before suspension" not in page.text
    assert 'action="/@eve/follow"' not in page.text
