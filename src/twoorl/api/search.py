"""``/api/v2/search``: people, posts and hashtags for a query."""

from __future__ import annotations

from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import ServicesDep, maybe_user
from twoorl.api.common import entities
from twoorl.api.paging import Cursor
from twoorl.api.params import Params
from twoorl.ids import parse_id
from twoorl.posts.service import get_post
from twoorl.search import service as search
from twoorl.web.services import site_url

router = APIRouter(prefix="/api/v2/search", tags=["search"])
TYPES = ("accounts", "statuses", "hashtags")


@router.get("", response_model=schemas.Search)
async def search_everything(
    request: Request, svc: ServicesDep, viewer: Account | None = maybe_user("read:search")
) -> schemas.Search:
    params = await Params.read(request)
    query = search.clean_query(params.text("q", "", max_length=10_000))
    wanted = params.text("type", max_length=20)
    kinds = (wanted,) if wanted in TYPES else TYPES
    cursor = Cursor.from_params(params)
    built = entities(request, viewer)
    offset_given = params.text("offset", max_length=10) not in (None, "", "0")
    if not query or offset_given:
        # Results come newest first by cursor (max_id); an offset past the first page is empty.
        return schemas.Search(accounts=[], statuses=[], hashtags=[])

    people: list[Account] = []
    found_posts = []
    tags: list[str] = []
    local = await _resolve_local_url(svc, site_url(request), query)
    if isinstance(local, Account):
        people = [local]
    elif local is not None:
        found_posts = [local]
    else:
        if "accounts" in kinds:
            people = await accounts.search_by_name(svc.shards, query, limit=cursor.limit)
        if "statuses" in kinds:
            found_posts = await search.posts_containing(
                svc.shards, query, max_id=cursor.max_id, limit=cursor.limit
            )
        if "hashtags" in kinds:
            tags = await search.hashtags(svc.shards, query, limit=cursor.limit)
    built_people = await built.accounts(people)
    base = site_url(request)
    return schemas.Search(
        accounts=[built_people[p.id] for p in people],
        statuses=await built.statuses(found_posts),
        hashtags=[
            schemas.Tag(name=tag, url=f"{base}/tags/{quote(tag)}", history=[]) for tag in tags
        ],
    )


async def _resolve_local_url(svc, base: str, query: str):
    """A link to a profile or post on this site finds that account or post, as Mastodon's
    ``resolve`` does for remote ones."""
    if not query.startswith(("http://", "https://")):
        return None
    url = urlparse(query)
    if f"{url.scheme}://{url.netloc}" != base:
        return None
    parts = [part for part in url.path.split("/") if part]
    if not parts or not parts[0].startswith("@"):
        return None
    author = await accounts.get_by_username(svc.shards, parts[0][1:])
    if author is None or len(parts) == 1:
        return author
    post = await get_post(svc.shards, parse_id(parts[1]) or 0)
    return post if post is not None and post.author_id == author.id else None
