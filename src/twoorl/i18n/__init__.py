"""Translations: the active locale is per request (a context variable), so service code can
say ``_("...")`` and the person who caused the message reads it in their language.

Catalogs are the ``.po`` files under ``locale/``; they are compiled in memory the first time a
locale is used, so there is no build step and no ``.mo`` file to forget.
"""

from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "en"
LOCALES = ("en", "es", "de", "fr", "ko", "pl", "pt_BR", "ru", "sv", "it", "zh_Hans", "da", "el")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current_locale: ContextVar[str] = ContextVar("twoorl_locale", default=DEFAULT_LOCALE)


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def translations_for(locale: str) -> _gettext.NullTranslations:
    path = catalog_path(locale)
    if locale not in LOCALES or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def current_locale() -> str:
    return _current_locale.get()


def babel_locale() -> Locale:
    return parsed_locale(current_locale())


@cache
def parsed_locale(code: str) -> Locale:
    # Parsing is costly and every date and number on a page asks for it; LOCALES is small.
    return Locale.parse(code, sep="_")


def gettext(message: str) -> str:
    return translations_for(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(current_locale()).ngettext(singular, plural, n)


_ = gettext
