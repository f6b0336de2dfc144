"""The JSON API: Mastodon's client API (4.2 semantics) over Twoorl's services, so existing
Mastodon apps and client libraries work with Twoorl. Routers stay thin; ``entities`` turns
domain objects into Mastodon's JSON shapes."""

from importlib.metadata import version

from twoorl.api import (
    accounts,
    apps,
    instance,
    notifications,
    oauth,
    search,
    statuses,
    streaming,
    timelines,
)

ROUTERS = (apps, oauth, instance, accounts, statuses, timelines, notifications, search, streaming)
__all__ = ["ROUTERS", "version"]
