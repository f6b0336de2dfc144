"""What the HTTP surfaces (pages and the API) share about a request: the running services,
this site's address, the client's address, and rate limits by address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from limits import parse

from twoorl.errors import RateLimited
from twoorl.i18n import _
from twoorl.runtime.services import Services


def services(request: Request) -> Services:
    return request.app.state.services


async def _services_dependency(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in a thread, a hop per request.
    return services(request)


ServicesDep = Annotated[Services, Depends(_services_dependency)]


def site_url(request: Request) -> str:
    """This site's address for absolute links: the configured one, else the request's."""
    return (services(request).settings.base_url or str(request.base_url)).rstrip("/")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def enforce_rate_limit(request: Request, services_: Services, action: str, rule: str) -> None:
    limit = parse(rule)
    if not await services_.rate_limiter.hit(limit, action, client_ip(request)):
        raise RateLimited(_("Too many attempts. Please wait a few minutes and try again."))
