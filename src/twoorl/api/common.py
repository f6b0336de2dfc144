"""Small pieces every API router uses: the request's entity builder and finding things by id."""

from __future__ import annotations

from fastapi import Request, Response

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.api.entities import Entities
from twoorl.api.errors import ApiError
from twoorl.api.paging import link_header, page_request
from twoorl.api.params import Params
from twoorl.graph.blocks import hidden_from_viewer
from twoorl.i18n import _
from twoorl.ids import parse_id
from twoorl.posts.models import Post
from twoorl.posts.service import get_post
from twoorl.runtime.http import services, site_url
from twoorl.storage.shards import ShardSet


def entities(request: Request, viewer: Account | None) -> Entities:
    return Entities(services(request).shards, site_url(request), viewer)


async def account_or_404(shards: ShardSet, account_id: str) -> Account:
    found = await accounts.get_by_id(shards, parse_id(account_id) or 0)
    if found is None:
        raise ApiError(404, _("Record not found"))
    return found


async def post_or_404(shards: ShardSet, post_id: str) -> Post:
    found = await get_post(shards, parse_id(post_id) or 0)
    if found is None:
        raise ApiError(404, _("Record not found"))
    return found


async def visible_post_or_404(shards: ShardSet, post_id: str, viewer: Account | None) -> Post:
    """A post the viewer may see: as on Mastodon, one whose author blocked them is not found."""
    post = await post_or_404(shards, post_id)
    if await hidden_from_viewer(shards, post.author_id, viewer):
        raise ApiError(404, _("Record not found"))
    return post


async def accounts_page(
    request: Request, response: Response, owner_id: int, viewer: Account | None, page_of
) -> list:
    """A page of one of ``owner_id``'s lists of people (followers, following, blocked,
    muted): ``page_of(shards, owner_id, before=, limit=)``, 40 by default, paged by Link."""
    params = await Params.read(request)
    cursor = page_request(params, default=40, most=80)
    page = await page_of(
        services(request).shards, owner_id, before=cursor.max_id, limit=cursor.limit
    )
    link_header(
        request, response, site_url(request), page.account_ids, page.next_cursor is not None
    )
    return await entities(request, viewer).accounts_in_order(page.account_ids)


def statuses_response(statuses_json: bytes, response: Response) -> Response:
    """A JSON array of statuses (``Entities.statuses_json``) with the headers the route set on
    ``response`` (``Link``). Returning a Response skips FastAPI's own validate-then-encode of
    the route's ``response_model``, which stays for the OpenAPI."""
    return Response(
        statuses_json,
        media_type="application/json",
        headers={k: v for k, v in response.headers.items() if k != "content-length"},
    )
