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

# In the order requests try them: the busiest first (timelines, statuses, accounts).
ROUTERS = (
    timelines,
    statuses,
    accounts,
    notifications,
    streaming,
    instance,
    apps,
    oauth,
    blocks,
    search,
    reports,
)
__all__ = ["ROUTERS", "version"]
