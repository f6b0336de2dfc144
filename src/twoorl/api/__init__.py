"""The JSON API: Mastodon's client API (4.2 semantics) over Twoorl's services, so existing
Mastodon apps and client libraries work with Twoorl. Routers stay thin; ``entities`` turns
domain objects into Mastodon's JSON shapes."""

from importlib.metadata import version

from twoorl.api import (
    accounts,
    apps,
    blocks,
    instance,
    notifications,
    oauth,
    reports,
    search,
    statuses,
    streaming,
    timelines,
)

ROUTERS = (
    apps,
    oauth,
    instance,
    accounts,
    blocks,
    statuses,
    timelines,
    notifications,
    search,
    streaming,
    reports,
)
__all__ = ["ROUTERS", "version"]
