"""Translations: the active locale is per request (a context variable), so service code can
say ``_("...")`` and the person who caused the message reads it in their language."""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale

DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current_locale: ContextVar[str] = ContextVar("twoorl_locale", default=DEFAULT_LOCALE)


@cache
def translations_for(locale: str) -> _gettext.NullTranslations:
    return _gettext.translation("messages", localedir=LOCALE_DIR, languages=[locale], fallback=True)


def set_locale(locale: str) -> None:
    _current_locale.set(locale)


def current_locale() -> str:
    return _current_locale.get()


def babel_locale() -> Locale:
    return Locale.parse(current_locale(), sep="_")


def gettext(message: str) -> str:
    return translations_for(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(current_locale()).ngettext(singular, plural, n)


_ = gettext
