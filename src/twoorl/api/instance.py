"""``/api/v1/instance`` and ``/api/v2/instance``: what this server is and what it allows."""

from __future__ import annotations

import time
import weakref
from importlib.metadata import version

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from twoorl import i18n
from twoorl.accounts.tables import account_counters, accounts
from twoorl.api import schemas
from twoorl.api.auth import counted
from twoorl.i18n import _
from twoorl.runtime.http import ServicesDep, site_url
from twoorl.storage.shards import ShardSet

router = APIRouter(prefix="/api", tags=["instance"], dependencies=[Depends(counted)])
MASTODON_VERSION = "4.2.0"
STATS_TTL_SECONDS = 60
URL_LENGTH = 23  # a link counts as this many characters (posts/text.py)
# ISO 639-1, as Mastodon lists them (pt_BR and zh_Hans become pt and zh).
LANGUAGES = sorted({code.split("_")[0] for code in i18n.LOCALES})
# Keyed by the ShardSet itself, weakly: keyed by ``id()`` a new site could inherit the figures of
# a disposed one that had the same address (as test apps do, one after another).
_stats: weakref.WeakKeyDictionary[ShardSet, tuple[float, schemas.InstanceStats]] = (
    weakref.WeakKeyDictionary()
)


def version_string() -> str:
    # Clients read the leading X.Y.Z to decide what the server can do; the rest says who we are.
    return f"{MASTODON_VERSION} (compatible; Twoorl {version('twoorl')})"


async def _instance_stats(shards: ShardSet) -> schemas.InstanceStats:
    """Totals, recounted at most once a minute per process: every client asks on start."""
    cached = _stats.get(shards)
    if cached and time.monotonic() - cached[0] < STATS_TTL_SECONDS:
        return cached[1]

    async def posts_on(shard, conn) -> int:
        return (
            await conn.execute(select(func.coalesce(func.sum(account_counters.c.posts), 0)))
        ).scalar_one()

    async with shards.directory.read() as conn:
        people = (await conn.execute(select(func.count()).select_from(accounts))).scalar_one()
    stats = schemas.InstanceStats(
        user_count=people, status_count=sum(await shards.gather(posts_on)), domain_count=0
    )
    _stats[shards] = (time.monotonic(), stats)
    return stats


def _configuration(max_characters: int) -> dict:
    return {
        "accounts": schemas.AccountsConfiguration(max_featured_tags=0),
        "statuses": schemas.StatusesConfiguration(
            max_characters=max_characters,
            max_media_attachments=0,
            characters_reserved_per_url=URL_LENGTH,
        ),
        "media_attachments": schemas.MediaConfiguration(
            supported_mime_types=[],
            image_size_limit=0,
            image_matrix_limit=0,
            video_size_limit=0,
            video_frame_rate_limit=0,
            video_matrix_limit=0,
        ),
        "polls": schemas.PollsConfiguration(
            max_options=0, max_characters_per_option=0, min_expiration=0, max_expiration=0
        ),
    }


def _streaming_url(base: str) -> str:
    return (
        "wss://" + base.removeprefix("https://")
        if base.startswith("https://")
        else ("ws://" + base.removeprefix("http://"))
    )


def _domain(base: str) -> str:
    return base.split("://", 1)[-1]


def _description() -> str:
    return _("Twoorl: short posts, friends, and replies, in your own language.")


@router.get("/v1/instance", response_model=schemas.InstanceV1)
@router.get("/v1/instance/", response_model=schemas.InstanceV1, include_in_schema=False)
async def instance_v1(request: Request, svc: ServicesDep) -> schemas.InstanceV1:
    base = site_url(request)
    return schemas.InstanceV1(
        uri=_domain(base),
        title="Twoorl",
        short_description=_description(),
        description=_description(),
        email="",
        version=version_string(),
        urls=schemas.InstanceUrls(streaming_api=_streaming_url(base)),
        stats=await _instance_stats(svc.shards),
        thumbnail=f"{base}/static/favicon.svg",
        languages=LANGUAGES,
        registrations=True,
        approval_required=False,
        invites_enabled=False,
        configuration=schemas.InstanceConfigurationV1(
            **_configuration(svc.settings.max_post_length)
        ),
        contact_account=None,
        rules=[],
    )


@router.get("/v2/instance", response_model=schemas.InstanceV2)
@router.get("/v2/instance/", response_model=schemas.InstanceV2, include_in_schema=False)
async def instance_v2(request: Request, svc: ServicesDep) -> schemas.InstanceV2:
    base = site_url(request)
    stats = await _instance_stats(svc.shards)
    return schemas.InstanceV2(
        domain=_domain(base),
        title="Twoorl",
        version=version_string(),
        source_url=f"{base}/",
        description=_description(),
        usage=schemas.Usage(users=schemas.UsageUsers(active_month=stats.user_count)),
        thumbnail=schemas.Thumbnail(url=f"{base}/static/favicon.svg"),
        languages=LANGUAGES,
        configuration=schemas.InstanceConfigurationV2(
            **_configuration(svc.settings.max_post_length),
            urls=schemas.ConfigurationUrls(streaming=_streaming_url(base)),
            translation=schemas.TranslationConfiguration(enabled=False),
        ),
        registrations=schemas.Registrations(enabled=True, approval_required=False, message=None),
        contact=schemas.Contact(email="", account=None),
        rules=[],
    )
