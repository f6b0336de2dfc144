"""What the OAuth service hands out: apps, issued tokens, and a user's authorized apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from twoorl.accounts.models import Account

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True)
class OAuthApp:
    id: int
    client_id: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    created_at: datetime

    @classmethod
    def from_row(cls, row) -> OAuthApp:
        return cls(
            id=row.id,
            client_id=row.client_id,
            name=row.name,
            website=row.website,
            redirect_uris=tuple(row.redirect_uris.split("\n")),
            scopes=frozenset(row.scopes.split()),
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class IssuedToken:
    """A token as the client receives it, once: only its hash is kept."""

    access_token: str
    scopes: frozenset[str]
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """Who a bearer token acts for (None for an app's own token) and what it may do."""

    app_id: int
    account: Account | None
    scopes: frozenset[str]
    token_hash: str


@dataclass(frozen=True)
class AuthorizedApp:
    """An app a person let into their account, for the settings page."""

    app: OAuthApp
    scopes: frozenset[str]
    tokens: int
    first_authorized_at: datetime
    last_used_at: datetime
