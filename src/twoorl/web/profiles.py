"""Profile pages, follow / unfollow, followers and following lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from twoorl.accounts import service as accounts
from twoorl.accounts.identicon import identicon_svg
from twoorl.accounts.models import Account
from twoorl.errors import NotFound
from twoorl.graph import blocks as graph_blocks
from twoorl.graph import service as graph
from twoorl.i18n import _
from twoorl.ids import MAX_ID, parse_id
from twoorl.runtime import actions
from twoorl.runtime.http import ServicesDep
from twoorl.runtime.services import Services
from twoorl.timelines import service as timelines
from twoorl.timelines.service import Page, PageRequest
from twoorl.timelines.visible import visible
from twoorl.web.auth import CurrentAccount, MaybeAccount, safe_next
from twoorl.web.feed_links import account_feeds
from twoorl.web.security import CsrfChecked
from twoorl.web.templating import render

router = APIRouter()
Cursor = Annotated[int | None, Query(ge=1, le=MAX_ID)]
PEOPLE_PER_PAGE = 40


async def _account_or_404(svc: Services, username: str) -> Account:
    account = await accounts.get_by_username(svc.shards, username)
    if account is None:
        raise NotFound(
            _("There is nobody called @%(username)s here.") % {"username": username[:40]}
        )
    return account


async def _profile_context(svc: Services, account: Account, viewer: Account | None) -> dict:
    other = viewer is not None and viewer.id != account.id
    return {
        "account": account,
        "counts": await accounts.counts_for(svc.shards, account.id),
        "viewer_follows": other and await graph.is_following(svc.shards, viewer.id, account.id),
        # Blocks and mutes: the viewer's own lists, on their shard.
        "viewer_blocks": other
        and account.id in await graph_blocks.blocking_among(svc.shards, viewer.id, [account.id]),
        "viewer_mutes": other
        and account.id in await graph_blocks.muting_among(svc.shards, viewer.id, [account.id]),
        # Someone who blocked the viewer: no posts and no Follow button for them.
        "viewer_blocked_by": await graph_blocks.hidden_from_viewer(svc.shards, account.id, viewer),
    }


@router.get("/avatars/{name}.svg")
async def avatar(name: str) -> Response:
    if parse_id(name) is None:
        raise NotFound(_("No such avatar."))
    return Response(
        identicon_svg(name),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/@{username}")
async def profile(
    request: Request, svc: ServicesDep, viewer: MaybeAccount, username: str, max_id: Cursor = None
) -> Response:
    account = await _account_or_404(svc, username)
    context = await _profile_context(svc, account, viewer)
    page = await timelines.by_author(svc.shards, account.id, PageRequest(max_id=max_id))
    if account.suspended or context["viewer_blocked_by"]:
        # Not shown: a suspended account's posts, and a blocker's to whom they blocked.
        page = Page([], page.request)
    return render(
        request,
        "profile.html",
        {
            **context,
            "title": f"{account.name} (@{account.username})",
            "feeds": account_feeds(account.username, account.name),
            # Their own posts show even to a viewer who muted them (reposts of muted people not).
            "posts": (
                await visible(svc.shards, page.posts, viewer, keep_author_id=account.id)
            ).posts,
            "next_max_id": page.next_max_id,
        },
    )


@router.post("/@{username}/follow")
async def follow(
    svc: ServicesDep,
    viewer: CurrentAccount,
    _csrf: CsrfChecked,
    username: str,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    account = await _account_or_404(svc, username)
    await actions.follow(svc, viewer, account)
    return RedirectResponse(safe_next(next, f"/@{account.username}"), status_code=303)


@router.post("/@{username}/unfollow")
async def unfollow(
    svc: ServicesDep,
    viewer: CurrentAccount,
    _csrf: CsrfChecked,
    username: str,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    account = await _account_or_404(svc, username)
    await actions.unfollow(svc, viewer, account)
    return RedirectResponse(safe_next(next, f"/@{account.username}"), status_code=303)


# Blocks and mutes: the same POST forms as follow / unfollow (from profiles and settings).


async def _relate(svc: Services, viewer: Account, username: str, next: str, act) -> Response:
    account = await _account_or_404(svc, username)
    await act(svc, viewer, account)
    return RedirectResponse(safe_next(next, f"/@{account.username}"), status_code=303)


NextField = Annotated[str, Form(max_length=2000)]


RELATIONS = {
    "block": actions.block,
    "unblock": actions.unblock,
    "mute": actions.mute,
    "unmute": actions.unmute,
}


@router.post("/@{username}/{relation}")
async def relate(
    svc: ServicesDep,
    viewer: CurrentAccount,
    _csrf: CsrfChecked,
    username: str,
    relation: str,
    next: NextField = "",
) -> Response:
    """Block, unblock, mute or unmute from a profile's buttons."""
    if relation not in RELATIONS:
        raise NotFound(_("This page does not exist."))
    return await _relate(svc, viewer, username, next, RELATIONS[relation])


async def _people_page(
    request: Request, svc: Services, viewer, username: str, before: int | None, which: str
) -> Response:
    account = await _account_or_404(svc, username)
    lister = graph.followers_page if which == "followers" else graph.following_page
    edges = await lister(svc.shards, account.id, before=before, limit=PEOPLE_PER_PAGE)
    people = await accounts.get_many(svc.shards, edges.account_ids)
    heading = (
        _("People following @%(username)s")
        if which == "followers"
        else _("People @%(username)s follows")
    ) % {"username": account.username}
    return render(
        request,
        "people.html",
        {
            **await _profile_context(svc, account, viewer),
            "title": heading,
            "heading": heading,
            "which": which,
            "people": [people[i] for i in edges.account_ids if i in people],
            "next_cursor": edges.next_cursor,
        },
    )


@router.get("/@{username}/followers")
async def followers(
    request: Request, svc: ServicesDep, viewer: MaybeAccount, username: str, before: Cursor = None
) -> Response:
    return await _people_page(request, svc, viewer, username, before, "followers")


@router.get("/@{username}/following")
async def following(
    request: Request, svc: ServicesDep, viewer: MaybeAccount, username: str, before: Cursor = None
) -> Response:
    return await _people_page(request, svc, viewer, username, before, "following")
