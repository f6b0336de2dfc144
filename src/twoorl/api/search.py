"""``/api/v2/search``: people, posts and hashtags for a query."""

from __future__ import annotations

from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request

from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.api import schemas
from twoorl.api.auth import maybe_user
from twoorl.api.common import entities
from twoorl.api.paging import page_request
from twoorl.api.params import Params
from twoorl.graph.service import followed_among
from twoorl.ids import parse_id
from twoorl.posts.models import Post
from twoorl.posts.service import get_post
from twoorl.runtime.http import ServicesDep, site_url
from twoorl.runtime.services import Services
from twoorl.search import service as search
from twoorl.search.filters import hidden_account_ids
from twoorl.timelines.paging import MAX_PAGE_SIZE

router = APIRouter(prefix="/api/v2/search", tags=["search"])
TYPES = ("accounts", "statuses", "hashtags")
# Results are read from the top and sliced, so an offset costs what it skips: bounded.
MAX_RESULTS = 10 * MAX_PAGE_SIZE
EMPTY = schemas.Search(accounts=[], statuses=[], hashtags=[])


@router.get("", response_model=schemas.Search)
async def search_everything(
    request: Request, svc: ServicesDep, viewer: Account | None = maybe_user("read:search")
) -> schemas.Search:
    params = await Params.read(request)
    # Long pasted text is cut to what is searched, not refused.
    query = search.clean_query(params.text("q", "", max_length=1_000_000))
    wanted = params.text("type", max_length=20)
    kinds = (wanted,) if wanted in TYPES else TYPES
    cursor = page_request(params)
    raw_offset = params.text("offset", max_length=10) or "0"
    offset = int(raw_offset) if raw_offset.isascii() and raw_offset.isdigit() else 0
    if not query or offset + cursor.limit > MAX_RESULTS:
        return EMPTY
    base = site_url(request)

    local = await _resolve_local_url(svc, base, query)
    if local is not None:
        # As Mastodon: a link names one thing, shown on the first page, if its type is asked.
        is_account = isinstance(local, Account)
        if offset or ("accounts" if is_account else "statuses") not in kinds:
            return EMPTY
        built = entities(request, viewer)
        if is_account:
            if local.id in await hidden_account_ids(svc.shards, viewer):
                return EMPTY
            return schemas.Search(accounts=[await built.account(local)], statuses=[], hashtags=[])
        return schemas.Search(accounts=[], statuses=await built.statuses([local]), hashtags=[])

    window = offset + cursor.limit
    people: list[Account] = []
    found_posts: list[Post] = []
    tags: list[str] = []
    if "accounts" in kinds:
        people = await _accounts(svc, base, query, window, viewer)
        if viewer is not None and params.flag("following"):
            followed = await followed_among(svc.shards, viewer.id, [p.id for p in people])
            people = [p for p in people if p.id in followed]
        people = people[offset:window]
    if "statuses" in kinds:
        author_id = params.id("account_id")
        found_posts = await search.search_posts(
            svc.shards,
            query,
            max_id=cursor.max_id,
            limit=window,
            author_id=author_id,
            viewer=viewer,
        )
        found_posts = found_posts[offset:window]
    if "hashtags" in kinds and "@" not in query:
        tags = (await search.hashtags(svc.shards, query, limit=window))[offset:window]
    built = entities(request, viewer)
    built_people = await built.accounts(people)
    return schemas.Search(
        accounts=[built_people[p.id] for p in people],
        statuses=await built.statuses(found_posts),
        hashtags=[
            schemas.Tag(name=tag, url=f"{base}/tags/{quote(tag)}", history=[]) for tag in tags
        ],
    )


async def _accounts(
    svc: Services, base: str, query: str, limit: int, viewer: Account | None
) -> list[Account]:
    """People by username or display name prefix (``search.people``: hidden people left
    out, an exact username first). ``name@domain`` (Mastodon's address form) finds ``name``
    when the domain is this site's, and nobody elsewhere: Twoorl does not federate."""
    name = query.removeprefix("@")
    if "@" in name:
        name, _at, domain = name.partition("@")
        host = urlparse(base)
        if domain.lower() not in {host.netloc.lower(), (host.hostname or "").lower()}:
            return []
        found = await search.people(svc.shards, name, limit=limit, viewer=viewer)
        return [person for person in found if person.username.lower() == name.lower()]
    return await search.people(svc.shards, name, limit=limit, viewer=viewer)


async def _resolve_local_url(svc: Services, base: str, query: str) -> Account | Post | None:
    """A link to a profile or post on this site finds that account or post, as Mastodon's
    ``resolve`` does for remote ones: ``/@name``, ``/@name/<id>`` and the ActivityPub-style
    ``/users/name`` and ``/users/name/statuses/<id>`` that statuses carry as ``uri``."""
    if not query.startswith(("http://", "https://")):
        return None
    url = urlparse(query)
    if f"{url.scheme}://{url.netloc}".lower() != base.lower():
        return None
    parts = [part for part in url.path.split("/") if part]
    if parts[:1] == ["users"] and len(parts) in (2, 4) and parts[2:3] in ([], ["statuses"]):
        parts = ["@" + parts[1], *parts[3:]]
    if not parts or len(parts) > 2 or not parts[0].startswith("@"):
        return None
    author = await accounts.get_by_username(svc.shards, parts[0][1:])
    if author is None or len(parts) == 1:
        return author
    post = await get_post(svc.shards, parse_id(parts[1]) or 0)
    return post if post is not None and post.author_id == author.id else None
