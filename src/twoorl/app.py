"""The ASGI application. ``create_app`` builds everything; importing this module builds nothing."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twoorl import api, i18n
from twoorl.api.auth import request_grant
from twoorl.api.errors import API_PREFIXES, ApiError, error_response, is_api_request
from twoorl.errors import TwoorlError
from twoorl.i18n import _
from twoorl.i18n.negotiation import LANG_COOKIE, choose_locale
from twoorl.notifications.service import unread_count
from twoorl.oauth.service import OAuthError
from twoorl.runtime.services import Services
from twoorl.settings import Settings, load_settings
from twoorl.storage.migrate import migrate_shards
from twoorl.storage.shards import ShardTimeout
from twoorl.web import (
    accounts,
    admin,
    directory,
    feeds,
    language,
    live,
    notifications,
    oauth_consent,
    posts,
    profiles,
    reactions,
    reports,
    search,
    stats,
    timelines,
)
from twoorl.web.auth import optional_account
from twoorl.web.templating import build_templates, render

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services: Services = app.state.services
        if migrate:
            await migrate_shards(services.shards)
        await services.broker.start()
        worker_task = None
        if settings.inline_workers:
            worker_task = asyncio.create_task(services.worker.run_forever(), name="twoorl-jobs")
        try:
            yield
        finally:
            if worker_task:
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
            await services.broker.stop()
            if services.timelines:
                await services.timelines.close()
            await services.close_rate_limiter()
            await services.shards.dispose()

    app = FastAPI(
        title="Twoorl",
        summary="A Mastodon-compatible client API (Mastodon 4.2 semantics).",
        version=api.version("twoorl"),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = Services.build(settings, build_templates())

    app.add_middleware(PerRequest)
    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # A request is matched against each route in turn, and matching costs a few microseconds
    # a route: the busiest pages (the timelines' four routes) come first, then the API in a
    # group that turns other paths away at once, then the pages people write from (feeds
    # before profiles: /@{username}.rss must not be taken for a username; profiles before
    # posts: /@{username}/follow is not a post) and the rest.
    app.include_router(timelines.router, include_in_schema=False)
    api_routes = PathGroup(lambda path: path.startswith(API_PREFIXES))
    for module in api.ROUTERS:
        api_routes.include_router(module.router)
    app.include_router(api_routes)
    for module in (
        feeds,
        profiles,
        reactions,
        posts,
        accounts,
        admin,
        language,
        notifications,
        oauth_consent,
        live,
        reports,
        stats,
        search,
        directory,
    ):
        app.include_router(module.router, include_in_schema=False)
    return app


class PathGroup(APIRouter):
    """Routers whose paths share a shape (``accepts``): any other path is turned away with
    one test instead of being tried against each of their routes."""

    def __init__(self, accepts: Callable[[str], bool]) -> None:
        super().__init__()
        self._accepts = accepts

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not self._accepts(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


CORS_HEADERS = {
    # API calls carry a bearer token, never a cookie, so any site's web client may make them.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Link, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset, X-Request-Id",
}
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
UNTRACKED_PATHS = ("/static/", "/avatars/")


class PerRequest:
    """What every request needs before its route and every response after it: the change
    feed read, the language, the signed-in person (pages), CORS and rate-limit headers
    (API). Plain ASGI, not ``BaseHTTPMiddleware``: that one runs each request in a task of
    its own and streams the answer through a queue, a tenth of a cheap request's CPU."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        i18n.set_locale(i18n.DEFAULT_LOCALE)
        path = request.url.path
        if not path.startswith(UNTRACKED_PATHS):
            # What other processes changed (a delete, a block, a revoked token) first.
            await request.app.state.services.shards.catch_up()
        if is_api_request(request):
            await self._api(request, scope, receive, send)
            return
        if not path.startswith(UNTRACKED_PATHS):
            await _resolve_viewer(request)
        await self.app(scope, receive, _with_headers(send, lambda: PAGE_HEADERS))

    async def _api(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        """The API's requests: bearer tokens instead of cookies, so no session lookup; the
        language comes from Accept-Language (or the token's account, in ``api.auth``)."""
        i18n.set_locale(
            choose_locale(
                account_locale=None,
                cookie=None,
                accept_language=request.headers.get("accept-language"),
            )
        )
        if request.method == "OPTIONS":
            preflight = Response(status_code=204, headers={**CORS_HEADERS, **PREFLIGHT_HEADERS})
            preflight.headers.setdefault("X-Content-Type-Options", "nosniff")
            await preflight(scope, receive, send)
            return

        async def headers() -> dict[str, str]:
            if not hasattr(request.state, "rate_limit_headers") and request.url.path.startswith(
                "/api/"
            ):
                # Unknown paths and wrong methods count too, and say so.
                with contextlib.suppress(ApiError):
                    await request_grant(request)
            return {
                **getattr(request.state, "rate_limit_headers", {}),
                **CORS_HEADERS,
                "X-Content-Type-Options": "nosniff",
            }

        await self.app(scope, receive, _with_headers(send, headers, replace=CORS_HEADERS))


PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Max-Age": "86400",
}


async def _resolve_viewer(request: Request) -> None:
    """Every page's header shows who is signed in, so resolve it once up front."""
    account = await optional_account(request)
    i18n.set_locale(
        choose_locale(
            account_locale=account.locale if account else None,
            cookie=request.cookies.get(LANG_COOKIE),
            accept_language=request.headers.get("accept-language"),
        )
    )
    if account and not request.url.path.startswith("/stream/"):
        request.state.unread_notifications = await unread_count(
            request.app.state.services.shards, account.id
        )


def _with_headers(send: Send, extra, *, replace: dict[str, str] | None = None) -> Send:
    """``send`` that adds ``extra()`` (a dict, or an awaitable of one) to the response's
    headers where the route set none of its own; those in ``replace`` always win."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            found = extra()
            values = await found if inspect.isawaitable(found) else found
            headers = MutableHeaders(scope=message)
            for name, value in values.items():
                if replace and name in replace:
                    headers[name] = value
                else:
                    headers.setdefault(name, value)
        await send(message)

    return sending


def _install_error_pages(app: FastAPI) -> None:
    def error_page(request: Request, status: int, message: str) -> Response:
        if is_api_request(request):
            return error_response(status, message)
        return render(
            request, "error.html", {"title": message, "message": message, "status": status}, status
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status_code, exc.message, headers=exc.headers)

    @app.exception_handler(TwoorlError)
    async def domain_error(request: Request, exc: TwoorlError) -> Response:
        if isinstance(exc, OAuthError) and is_api_request(request):
            return error_response(exc.status_code, exc.message, error=exc.error)
        return error_page(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_page(
            request,
            422 if is_api_request(request) else 400,
            _("Something in that request was not right: %(where)s.")
            % {"where": ", ".join(str(e["loc"][-1]) for e in exc.errors()) or "?"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307, 308):
            return Response(status_code=exc.status_code, headers=exc.headers)
        messages = {
            404: _("This page does not exist."),
            405: _("That is not something you can do here."),
        }
        return error_page(
            request, exc.status_code, messages.get(exc.status_code, _("Something went wrong."))
        )

    @app.exception_handler(ShardTimeout)
    async def shard_timeout(request: Request, exc: ShardTimeout) -> Response:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        response = error_page(
            request,
            503,
            _("Part of Twoorl is answering too slowly right now. Please try again in a moment."),
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500, _("Something went wrong on our side. Please try again."))


def app_from_environment() -> FastAPI:
    """The uvicorn factory for ``twoorl serve`` (migrations already ran in the CLI)."""
    return create_app(migrate=False)
