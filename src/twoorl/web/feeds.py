"""Feeds of timelines: the everyone-timeline, a person's posts, and the posts of the people a
person follows, each as RSS 2.0 (``.rss``), Atom 1.0 (``.atom``) and JSON Feed 1.1
(``.json``). Anyone may read them; the title's language comes from ``?lang=``.

This router must be included before the profile pages': ``/@{username}`` would otherwise
take ``/@alice.rss`` for a person called "alice.rss".
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from twoorl import i18n
from twoorl.accounts import service as accounts
from twoorl.accounts.models import Account
from twoorl.errors import NotFound
from twoorl.feeds import FORMATS, Feed
from twoorl.feeds import service as feeds
from twoorl.feeds.conditional import http_date, not_modified
from twoorl.feeds.render import render
from twoorl.i18n import _
from twoorl.runtime.http import ServicesDep, site_url
from twoorl.runtime.services import Services

router = APIRouter()
CACHE_CONTROL = "public, max-age=60"


def _format_or_404(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(_("This page does not exist."))
    return fmt


def _feed_options(request: Request, svc: Services) -> dict:
    lang, chosen = feeds.choose_locale(request.query_params.get("lang"))
    i18n.set_locale(lang)
    return {"base_url": site_url(request), "lang": lang, "lang_chosen": chosen}


async def _account_or_404(svc: Services, username: str) -> Account:
    account = await accounts.get_by_username(svc.shards, username)
    if account is None:
        raise NotFound(
            _("There is nobody called @%(username)s here.") % {"username": username[:40]}
        )
    return account


def _respond(request: Request, feed: Feed, fmt: str) -> Response:
    etag = feed.etag(fmt)
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(feed.updated),
        "Cache-Control": CACHE_CONTROL,
    }
    if not_modified(
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        etag,
        feed.updated,
    ):
        return Response(status_code=304, headers=headers)
    return Response(render(feed, fmt), media_type=FORMATS[fmt], headers=headers)


@router.api_route("/public.{fmt}", methods=["GET", "HEAD"])
async def public_feed(request: Request, svc: ServicesDep, fmt: str) -> Response:
    fmt = _format_or_404(fmt)
    feed = await feeds.public_feed(svc.shards, **_feed_options(request, svc))
    return _respond(request, feed, fmt)


@router.api_route("/@{username}.{fmt}", methods=["GET", "HEAD"])
async def user_feed(request: Request, svc: ServicesDep, username: str, fmt: str) -> Response:
    fmt = _format_or_404(fmt)
    account = await _account_or_404(svc, username)
    feed = await feeds.user_feed(svc.shards, account, **_feed_options(request, svc))
    return _respond(request, feed, fmt)


@router.api_route("/@{username}/friends.{fmt}", methods=["GET", "HEAD"])
async def friends_feed(request: Request, svc: ServicesDep, username: str, fmt: str) -> Response:
    fmt = _format_or_404(fmt)
    account = await _account_or_404(svc, username)
    feed = await feeds.friends_feed(svc.shards, account, **_feed_options(request, svc))
    return _respond(request, feed, fmt)
