"""Rules for what people type into account forms."""

from __future__ import annotations

import re

from twoorl.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from twoorl.errors import InvalidInput
from twoorl.i18n import _
from twoorl.posts.text import strip_control_characters

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,30}")
# Deliberately loose: the only real test of an address is mail arriving there.
EMAIL_RE = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
MAX_DISPLAY_NAME = 50
MAX_BIO = 300
# Paths that a username must not shadow.
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "api",
        "login",
        "logout",
        "register",
        "settings",
        "public",
        "mentions",
        "tags",
        "static",
        "avatars",
        "posts",
        "stream",
        "notifications",
        "search",
        "users",
        "stats",
    }
)


def clean_username(value: str) -> str:
    value = value.strip().removeprefix("@")
    if not value:
        raise InvalidInput(_("Choose a username."), field="username")
    if not USERNAME_RE.fullmatch(value):
        raise InvalidInput(
            _("A username is 1 to 30 letters, digits or underscores."), field="username"
        )
    if value.lower() in RESERVED_USERNAMES:
        raise InvalidInput(_("That username is reserved. Please choose another."), field="username")
    return value


def clean_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise InvalidInput(_("Enter a valid email address."), field="email")
    return value


def clean_password(value: str, field: str = "password") -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("A password needs at least %(count)d characters.") % {"count": MIN_PASSWORD_LENGTH},
            field=field,
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_("That password is too long."), field=field)
    return value


def clean_display_name(value: str) -> str:
    value = " ".join(strip_control_characters(value).split())
    if len(value) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            _("A display name has at most %(count)d characters.") % {"count": MAX_DISPLAY_NAME},
            field="display_name",
        )
    return value


def clean_bio(value: str) -> str:
    value = strip_control_characters(value.replace("\r\n", "\n")).strip()
    if len(value) > MAX_BIO:
        raise InvalidInput(
            _("A bio has at most %(count)d characters.") % {"count": MAX_BIO}, field="bio"
        )
    return value


def clean_color(value: str) -> str:
    value = value.strip()
    if not COLOR_RE.fullmatch(value):
        raise InvalidInput(_("Pick a colour like #1d9bf0."), field="profile_color")
    return value.lower()
