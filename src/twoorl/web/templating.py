"""Jinja2 set-up: autoescaping, gettext, and the filters every page uses."""

from __future__ import annotations

import functools
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal
from cachetools import LRUCache
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from twoorl import i18n
from twoorl.accounts.identicon import gravatar_url
from twoorl.accounts.models import Account
from twoorl.ids import timestamp_ms_of
from twoorl.posts.models import PostView
from twoorl.storage.types import utcnow
from twoorl.web.security import csrf_token, set_pending_cookies

TEMPLATE_DIR = Path(__file__).parent / "templates"


def relative_time(moment: datetime) -> str:
    seconds = (moment - utcnow()).total_seconds()
    if abs(seconds) < 45:
        return i18n.gettext("just now")
    # Half-minute steps: "5 min ago" reads the same either side of them, and a page of
    # posts from the same hours formats each step once.
    return _relative_time(round(seconds / 30), i18n.current_locale())


@functools.lru_cache(maxsize=8192)
def _relative_time(half_minutes: int, locale: str) -> str:
    return format_timedelta(
        timedelta(seconds=half_minutes * 30),
        add_direction=True,
        threshold=1.1,
        format="short",
        locale=i18n.parsed_locale(locale),
    )


def full_time(moment: datetime) -> str:
    return _full_time(moment, i18n.current_locale())


@functools.lru_cache(maxsize=8192)
def _full_time(moment: datetime, locale: str) -> str:
    # The same posts appear on many pages; formatting a date with Babel is not cheap.
    return format_datetime(moment, format="medium", locale=i18n.parsed_locale(locale))


def avatar_url(account: Account, size: int = 96) -> str:
    if account.use_gravatar:
        return gravatar_url(account.email, size)
    return f"/avatars/{account.id}.svg"


def id_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms_of(snowflake) / 1000, tz=UTC)


@functools.cache
def locale_name(code: str) -> str:
    """A language's name in that language ("Deutsch", "한국어"), as people look for it."""
    return Locale.parse(code).get_display_name(code) or code


def number(value: int) -> str:
    return _number(value, i18n.current_locale())


@functools.lru_cache(maxsize=4096)
def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=i18n.parsed_locale(locale))


def _page_context(request: Request) -> dict[str, Any]:
    return {
        "current_account": getattr(request.state, "account", None),
        "unread_notifications": getattr(request.state, "unread_notifications", 0),
        "csrf_token": AnonymousPages.PLACEHOLDER,  # ``render`` puts the visitor's in
        "max_post_length": request.app.state.services.settings.max_post_length,
        "html_lang": i18n.current_locale().replace("_", "-"),
        "current_locale": i18n.current_locale(),
        "locales": i18n.LOCALES,
    }


def build_templates(*, strict: bool = False) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
        # The templates ship with the code: checking their files' times on every include
        # cost a stat() per post. A changed template needs a restart.
        auto_reload=False,
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        relative_time=relative_time,
        full_time=full_time,
        avatar_url=avatar_url,
        number=number,
        locale_name=locale_name,
        id_time=id_time,
    )
    cards = PostCards(env.get_template("partials/post_card.html"))
    env.globals["post_card"] = cards
    env.globals["post_cards"] = cards.many
    env.globals["fragment"] = Fragments(env)
    return templates


class PostCards:
    """Each post as it shows in a list, kept per language: the key holds everything the card
    is made of (the post, the people and counts as they are now, the relative time as it
    reads now, which buttons the viewer gets, where its forms return to), so a changed name,
    a new like or a new minute is a new key and nothing has to be dropped. Forms carry
    ``AnonymousPages.PLACEHOLDER``, which ``render`` replaces with the visitor's token, so a
    card serves everyone in the same relation to the post."""

    def __init__(self, template: jinja2.Template, size: int = 20_000) -> None:
        self._template = template
        self._cache: LRUCache[tuple, Markup] = LRUCache(maxsize=size)

    def __call__(self, view: PostView, focused: bool, viewer: Account | None, path: str) -> Markup:
        when = relative_time(view.post.created_at)
        relation = _relation(view, viewer)
        key = (view, focused, when, relation, path, i18n.current_locale())
        html = self._cache.get(key)
        if html is None:
            html = Markup(
                self._template.render(
                    view=view,
                    focused=focused,
                    when=when,
                    relation=relation,
                    path=path,
                    csrf_token=AnonymousPages.PLACEHOLDER,
                )
            )
            self._cache[key] = html
        return html

    def many(self, views: list[PostView], viewer: Account | None, path: str) -> Markup:
        """A list's cards in one call: an include per post costs a template context each."""
        return Markup("").join(self(view, False, viewer, path) for view in views)


class Fragments:
    """Parts of every page that depend on a few plain values (the header on who is signed
    in and their unread count, the footer on the address), rendered once per language and
    values instead of on every page. Their forms carry the CSRF placeholder, as cards do."""

    def __init__(self, env: jinja2.Environment, size: int = 4096) -> None:
        self._env = env
        self._cache: LRUCache[tuple, Markup] = LRUCache(maxsize=size)

    def __call__(self, name: str, **values: Any) -> Markup:
        key = (name, i18n.current_locale(), *sorted(values.items()))
        html = self._cache.get(key)
        if html is None:
            template = self._env.get_template(name)
            html = Markup(template.render(**values, csrf_token=AnonymousPages.PLACEHOLDER))
            self._cache[key] = html
        return html


def _relation(view: PostView, viewer: Account | None) -> str:
    """Which buttons a post shows this viewer."""
    if viewer is None:
        return "anonymous"
    if viewer.id == view.author.id:
        return "own"
    return "moderator" if viewer.role in ("moderator", "admin") else "other"


class AnonymousPages:
    """Whole pages as anonymous visitors see them (the front page, the public timeline), which
    are the same for all of them. Like ``PostCards`` the key is everything a page is made of
    (template, address, language, the context with its posts as they are now, the half-minute
    its relative times read in), so a new post or a changed name is simply a new key. Only the
    visitor's CSRF token differs: every page is rendered with a placeholder in its place,
    which ``render`` replaces once (a post's card is cached with it too)."""

    PLACEHOLDER = "csrf-" + secrets.token_hex(16)

    def __init__(self, size: int = 512) -> None:
        self._cache: LRUCache[tuple, bytes] = LRUCache(maxsize=size)

    def key(self, request: Request, name: str, context: dict[str, Any], status: int) -> tuple:
        return (
            name,
            request.url.path,
            request.url.query,
            status,
            i18n.current_locale(),
            int(time.time() // 30),
            _frozen(context),
        )

    def get(self, key: tuple) -> bytes | None:
        return self._cache.get(key)

    def put(self, key: tuple, body: bytes) -> None:
        self._cache[key] = body


ANONYMOUS_PAGES = AnonymousPages()


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _frozen(item)) for key, item in value.items())
    return value


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    same_for_anonymous: bool = False,
) -> HTMLResponse:
    """A page. ``same_for_anonymous``: for visitors who are not signed in the page depends on
    nothing but ``context`` and the address, so it may come from ``ANONYMOUS_PAGES``."""
    context = context or {}
    key = None
    if same_for_anonymous and getattr(request.state, "account", None) is None:
        try:
            key = ANONYMOUS_PAGES.key(request, name, context, status_code)
            body = ANONYMOUS_PAGES.get(key)
        except TypeError:  # something in the context cannot be a key: render it afresh
            key = body = None
        if body is not None:
            return _with_csrf_token(request, body, status_code)
    templates: Jinja2Templates = request.app.state.services.templates
    page = {"request": request, **_page_context(request), **context}
    body = templates.get_template(name).render(page).encode()
    if key is not None:
        ANONYMOUS_PAGES.put(key, body)
    return _with_csrf_token(request, body, status_code)


def _with_csrf_token(request: Request, body: bytes, status_code: int) -> HTMLResponse:
    token = csrf_token(request).encode()
    response = HTMLResponse(body.replace(AnonymousPages.PLACEHOLDER.encode(), token), status_code)
    set_pending_cookies(request, response)
    return response
