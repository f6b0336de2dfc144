"""Which language a page speaks: the person's setting, else the ``lang`` cookie (the footer's
chooser), else the browser's Accept-Language, else English."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from twoorl.i18n import DEFAULT_LOCALE, LOCALES

LANG_COOKIE = "lang"


def _closest(tag: str) -> str | None:
    """Our locale for a language tag: "de-AT" -> "de", "zh-CN" -> "zh_Hans", "pt" -> "pt_BR"."""
    tag = tag.strip().replace("-", "_")
    if not tag or tag == "*":
        return None
    if tag in LOCALES:
        return tag
    try:
        locale = Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "zh":
        # Traditional Chinese readers are better served by English than by Simplified.
        traditional = locale.script == "Hant" or locale.territory in ("TW", "HK", "MO")
        return None if traditional else "zh_Hans"
    if locale.language == "pt":
        return "pt_BR"
    return locale.language if locale.language in LOCALES else None


def from_accept_language(header: str) -> str | None:
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        found = _closest(tag)
        if found and quality > 0:
            weighted.append((-quality, position, found))
    return min(weighted)[2] if weighted else None


def choose_locale(
    *, account_locale: str | None, cookie: str | None, accept_language: str | None
) -> str:
    for candidate in (account_locale, cookie):
        if candidate in LOCALES:
            return candidate
    return from_accept_language(accept_language or "") or DEFAULT_LOCALE
