"""``/api/v1/accounts``: profiles, their posts, follows and relationships."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request, Response

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import any_grant, maybe_user, user
from twoorl.api.common import account_or_404, accounts_page, entities, statuses_response
from twoorl.api.errors import ApiError
from twoorl.api.oauth import token_entity
from twoorl.api.paging import link_header, page_request
from twoorl.api.params import Params
from twoorl.errors import Conflict, TwoorlError
from twoorl.graph import blocks as graph_blocks
from twoorl.graph import service as graph
from twoorl.i18n import LOCALES, _
from twoorl.oauth import scopes as scope_names
from twoorl.oauth import service as oauth
from twoorl.oauth.models import Grant
from twoorl.posts.text import hashtags, normalize_tag
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep, enforce_rate_limit, site_url
from twoorl.timelines import service as timelines
from twoorl.timelines.paging import page_until_full

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


def locale_for_language(code: str | None) -> str | None:
    """Mastodon speaks ISO 639-1 (``pt``); Twoorl's locales are sometimes regional (``pt_BR``)."""
    if not code:
        return None
    if code in LOCALES:
        return code
    for locale in LOCALES:
        if locale.split("_")[0] == code.split("-")[0].split("_")[0].lower():
            return locale
    raise ApiError(422, _("Twoorl does not speak the language %(code)s.") % {"code": code[:20]})


async def _language_param(request: Request, params: Params) -> str | None:
    """``source[language]`` from a form, or ``{"source": {"language": ...}}`` as JSON clients
    nest it (Params sees only the top level of a JSON body)."""
    language = params.text("source[language]", max_length=20)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if language is None and content_type == "application/json":
        source = (await request.json()).get("source")  # the body is cached: no second read
        if source is not None:
            if not isinstance(source, dict):
                raise ApiError(
                    422, _("The parameter %(name)s must be an object.") % {"name": "source"}
                )
            language = source.get("language")
            if language is not None and (not isinstance(language, str) or len(language) > 20):
                raise ApiError(
                    422, _("The parameter %(name)s must be text.") % {"name": "source[language]"}
                )
    return language if language is not None else params.text("locale", max_length=20)


@router.post("", response_model=schemas.Token)
async def register(request: Request, svc: ServicesDep, grant: Grant = any_grant()) -> schemas.Token:
    """Sign-up from an app (Mastodon's ``POST /api/v1/accounts``): the app's own token asks,
    and the answer is a token for the new account with the app's scopes."""
    if grant.account is not None:
        raise ApiError(403, _("You already have an account."))
    if not scope_names.grants(grant.scopes, "write:accounts"):
        raise ApiError(403, _("This action is outside the authorized scopes."))
    params = await Params.read(request)
    if not params.flag("agreement"):
        raise ApiError(422, _("You need to accept the rules to create an account."))
    await enforce_rate_limit(request, svc, "register", svc.settings.rate_limit_register)
    try:
        account = await accounts.register(
            svc.shards,
            svc.passwords,
            username=params.text("username", "", max_length=200),
            email=params.text("email", "", max_length=400),
            password=params.text("password", "", max_length=2000),
        )
    except Conflict as taken:
        raise ApiError(422, taken.message) from None  # Mastodon's "validation failed"
    app = await oauth.app_by_id(svc.shards, grant.app_id)
    if app is None:
        raise ApiError(401, _("The access token is invalid."))
    language = params.text("locale", max_length=20)
    if language:
        with contextlib.suppress(ApiError, TwoorlError):
            await accounts.update_profile(
                svc.shards,
                account,
                display_name="",
                bio="",
                locale=locale_for_language(language),
                use_gravatar=False,
                profile_color=account.profile_color,
            )
    return token_entity(await oauth.issue_token(svc.shards, app, account.id, grant.scopes))


@router.get("/verify_credentials", response_model=schemas.CredentialAccount)
async def verify_credentials(
    request: Request, me: Account = user("read:accounts")
) -> schemas.CredentialAccount:
    return await entities(request, me).credential_account(me)


@router.patch("/update_credentials", response_model=schemas.CredentialAccount)
async def update_credentials(
    request: Request, svc: ServicesDep, me: Account = user("write:accounts")
) -> schemas.CredentialAccount:
    params = await Params.read(request)
    language = await _language_param(request, params)
    updated = await accounts.update_profile(
        svc.shards,
        me,
        display_name=params.text("display_name", me.display_name, max_length=1000),
        bio=params.text("note", me.bio, max_length=10_000),
        locale=locale_for_language(language) if language is not None else me.locale,
        use_gravatar=me.use_gravatar,
        profile_color=me.profile_color,
    )
    return await entities(request, updated).credential_account(updated)


@router.get("/lookup", response_model=schemas.Account)
async def lookup(
    request: Request, svc: ServicesDep, viewer: Account | None = maybe_user("read:accounts")
) -> schemas.Account:
    acct = (request.query_params.get("acct") or "").removeprefix("@")
    username, _at, domain = acct.partition("@")
    here = site_url(request).split("://", 1)[-1].lower()
    # Domains are case-insensitive: ana@Example.org is ana here.
    local = domain.lower() in ("", here)
    found = await accounts.get_by_username(svc.shards, username) if local else None
    if found is None:
        raise ApiError(404, _("Record not found"))
    return await entities(request, viewer).account(found)


@router.get("/relationships", response_model=list[schemas.Relationship])
async def relationships(
    request: Request, svc: ServicesDep, me: Account = user("read:follows")
) -> list[schemas.Relationship]:
    params = await Params.read(request)
    wanted = params.ids("id")
    return await relationships_for(svc, me, wanted)


async def relationships_for(svc, me: Account, account_ids: list[int]) -> list[schemas.Relationship]:
    followed = await graph.followed_among(svc.shards, me.id, account_ids)
    following_me = await graph.followers_among(svc.shards, me.id, account_ids)
    blocking = await graph_blocks.blocking_among(svc.shards, me.id, account_ids)
    blocked_by = await graph_blocks.blocked_by_among(svc.shards, me.id, account_ids)
    muting = await graph_blocks.muting_among(svc.shards, me.id, account_ids)
    return [
        schemas.Relationship(
            id=str(other),
            following=other in followed,
            showing_reblogs=other in followed,
            notifying=False,
            languages=None,
            # A block's job is removing their follow of me: not "followed by" any more.
            followed_by=other in following_me and other not in blocking,
            blocking=other in blocking,
            blocked_by=other in blocked_by,
            muting=other in muting,
            muting_notifications=other in muting,  # a mute always hides notifications
            requested=False,
            requested_by=False,
            domain_blocking=False,
            endorsed=False,
            note="",
        )
        for other in account_ids
    ]


@router.get("/search", response_model=list[schemas.Account])
async def search_accounts(
    request: Request, svc: ServicesDep, viewer: Account = user("read:accounts")
) -> list[schemas.Account]:
    params = await Params.read(request)
    cursor = page_request(params)
    found = await accounts.search_by_name(
        svc.shards, params.text("q", "", max_length=1000), limit=cursor.limit
    )
    return list((await entities(request, viewer).accounts(found)).values())


@router.get("/{account_id}", response_model=schemas.Account)
async def get_account(
    request: Request,
    svc: ServicesDep,
    account_id: str,
    viewer: Account | None = maybe_user("read:accounts"),
) -> schemas.Account:
    return await entities(request, viewer).account(await account_or_404(svc.shards, account_id))


@router.get("/{account_id}/statuses", response_model=list[schemas.Status])
async def account_statuses(
    request: Request,
    response: Response,
    svc: ServicesDep,
    account_id: str,
    viewer: Account | None = maybe_user("read:statuses"),
) -> Response | list[schemas.Status]:
    author = await account_or_404(svc.shards, account_id)
    params = await Params.read(request)
    if params.flag("pinned") or params.flag("only_media"):
        return []  # Twoorl has neither pinned posts nor media
    if await graph_blocks.hidden_from_viewer(svc.shards, author.id, viewer):
        return []  # as on Mastodon: someone who blocked you shows you nothing
    exclude_replies = params.flag("exclude_replies")
    exclude_reblogs = params.flag("exclude_reblogs")
    tagged = params.text("tagged", max_length=100)

    def keep(post) -> bool:
        if exclude_reblogs and post.is_repost:
            return False
        # Mastodon keeps a person's replies to themselves (threads) when excluding replies.
        if exclude_replies and post.in_reply_to_id and post.in_reply_to_account_id != author.id:
            return False
        return not tagged or normalize_tag(tagged) in hashtags(post.text)

    page = await page_until_full(
        lambda read: timelines.by_author(svc.shards, author.id, read), page_request(params), keep
    )
    link_header(request, response, site_url(request), [p.id for p in page.posts], page.has_more)
    # A muted person's own posts still show on their profile (their reposts of others too).
    shown = await entities(request, viewer).statuses_json(page.posts, keep_author_id=author.id)
    return statuses_response(shown, response)


async def _people_page(request, response, svc, viewer, account_id: str, page_of) -> list:
    owner = await account_or_404(svc.shards, account_id)
    return await accounts_page(request, response, owner.id, viewer, page_of)


@router.get("/{account_id}/followers", response_model=list[schemas.Account])
async def followers(
    request: Request,
    response: Response,
    svc: ServicesDep,
    account_id: str,
    viewer: Account | None = maybe_user("read:accounts"),
) -> list[schemas.Account]:
    return await _people_page(request, response, svc, viewer, account_id, graph.followers_page)


@router.get("/{account_id}/following", response_model=list[schemas.Account])
async def following(
    request: Request,
    response: Response,
    svc: ServicesDep,
    account_id: str,
    viewer: Account | None = maybe_user("read:accounts"),
) -> list[schemas.Account]:
    return await _people_page(request, response, svc, viewer, account_id, graph.following_page)


@router.post("/{account_id}/follow", response_model=schemas.Relationship)
async def follow(
    svc: ServicesDep, account_id: str, me: Account = user("write:follows")
) -> schemas.Relationship:
    other = await account_or_404(svc.shards, account_id)
    await actions.follow(svc, me, other)
    return (await relationships_for(svc, me, [other.id]))[0]


@router.post("/{account_id}/unfollow", response_model=schemas.Relationship)
async def unfollow(
    svc: ServicesDep, account_id: str, me: Account = user("write:follows")
) -> schemas.Relationship:
    other = await account_or_404(svc.shards, account_id)
    await actions.unfollow(svc, me, other)
    return (await relationships_for(svc, me, [other.id]))[0]


# Blocks and mutes (the lists are GET /api/v1/blocks and /api/v1/mutes, in api/blocks.py).


async def _relate(svc, me: Account, account_id: str, action) -> schemas.Relationship:
    other = await account_or_404(svc.shards, account_id)
    await action(svc, me, other)
    return (await relationships_for(svc, me, [other.id]))[0]


@router.post("/{account_id}/block", response_model=schemas.Relationship)
async def block(
    svc: ServicesDep, account_id: str, me: Account = user("write:blocks")
) -> schemas.Relationship:
    return await _relate(svc, me, account_id, actions.block)


@router.post("/{account_id}/unblock", response_model=schemas.Relationship)
async def unblock(
    svc: ServicesDep, account_id: str, me: Account = user("write:blocks")
) -> schemas.Relationship:
    return await _relate(svc, me, account_id, actions.unblock)


@router.post("/{account_id}/mute", response_model=schemas.Relationship)
async def mute(
    svc: ServicesDep, account_id: str, me: Account = user("write:mutes")
) -> schemas.Relationship:
    return await _relate(svc, me, account_id, actions.mute)


@router.post("/{account_id}/unmute", response_model=schemas.Relationship)
async def unmute(
    svc: ServicesDep, account_id: str, me: Account = user("write:mutes")
) -> schemas.Relationship:
    return await _relate(svc, me, account_id, actions.unmute)
