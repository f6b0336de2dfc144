"""Registering apps and the OAuth2 grants: authorization code, password, client credentials.

Tokens never expire on their own (as on Mastodon); people revoke them in settings, and a
client revokes its own with ``/oauth/revoke``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select, update

from twoorl.accounts.models import Account
from twoorl.accounts.service import get_many
from twoorl.accounts.tables import accounts
from twoorl.caching.changes import record_change
from twoorl.errors import TwoorlError
from twoorl.i18n import _
from twoorl.ids import new_owner_id
from twoorl.oauth import scopes as scope_names
from twoorl.oauth.models import OOB_REDIRECT_URI, AuthorizedApp, Grant, IssuedToken, OAuthApp
from twoorl.oauth.tables import oauth_apps, oauth_codes, oauth_tokens
from twoorl.posts.text import strip_control_characters
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

CODE_LIFETIME = timedelta(minutes=10)
TOUCH_INTERVAL = timedelta(minutes=10)
MAX_REDIRECT_URIS = 10


class OAuthError(TwoorlError):
    """An RFC 6749 error: ``error`` is the machine code, the message a person's explanation."""

    def __init__(self, error: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.error = error
        self.status_code = status_code


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_redirect_uris(text: str) -> tuple[str, ...]:
    uris = tuple(u.strip() for u in text.replace("\r", "\n").split("\n") if u.strip())
    if not uris or len(uris) > MAX_REDIRECT_URIS:
        raise OAuthError(
            "invalid_request", _("An app needs between one and ten redirect URIs."), 422
        )
    for uri in uris:
        if uri == OOB_REDIRECT_URI:
            continue
        scheme, sep, rest = uri.partition(":")
        # Native apps use their own schemes (myapp://callback); only scriptable ones are refused.
        if not sep or not rest or scheme.lower() in ("javascript", "data", "vbscript"):
            raise OAuthError("invalid_request", _("That redirect URI is not valid."), 422)
        if len(uri) > 2000:
            raise OAuthError("invalid_request", _("That redirect URI is too long."), 422)
    return uris


def _clean_website(text: str | None) -> str | None:
    """An app's home page, shown as a link on the consent and settings pages: only http(s)."""
    website = (text or "").strip()
    if not website:
        return None
    parts = urlsplit(website)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(website) > 2000:
        raise OAuthError("invalid_request", _("The app's website must be an http(s) address."), 422)
    return website


def requested_scopes(text: str | None, default: str = scope_names.DEFAULT) -> frozenset[str]:
    try:
        return scope_names.parse(text, default)
    except scope_names.UnknownScope as unknown:
        raise OAuthError(
            "invalid_scope",
            _("Twoorl does not know the scope %(scope)s.") % {"scope": str(unknown)},
            422,
        ) from None


async def register_app(
    shards: ShardSet,
    *,
    name: str,
    redirect_uris: str,
    scopes: str | None,
    website: str | None,
) -> tuple[OAuthApp, str]:
    """A new app and its client secret (shown to the client once)."""
    name = strip_control_characters(name or "").strip()
    if not name:
        raise OAuthError("invalid_request", _("An app needs a name."), 422)
    if len(name) > 200:
        raise OAuthError("invalid_request", _("That app name is too long."), 422)
    uris = _clean_redirect_uris(redirect_uris or "")
    granted = requested_scopes(scopes)
    website = _clean_website(website)
    client_secret = secrets.token_urlsafe(32)
    row = {
        "id": new_owner_id(),
        "client_id": secrets.token_urlsafe(32),
        "client_secret_hash": _hash(client_secret),
        "name": name,
        "website": website,
        "redirect_uris": "\n".join(uris),
        "scopes": scope_names.render(granted),
        "created_at": utcnow(),
    }
    async with shards.directory.write() as conn:
        await conn.execute(insert(oauth_apps).values(**row))
    app = OAuthApp(
        id=row["id"],
        client_id=row["client_id"],
        name=name,
        website=website,
        redirect_uris=uris,
        scopes=granted,
        created_at=row["created_at"],
    )
    return app, client_secret


async def app_for_client(shards: ShardSet, client_id: str | None) -> OAuthApp | None:
    if not client_id or len(client_id) > 64:
        return None
    async with shards.directory.read() as conn:
        row = (
            await conn.execute(select(oauth_apps).where(oauth_apps.c.client_id == client_id))
        ).first()
    return OAuthApp.from_row(row) if row else None


async def app_by_id(shards: ShardSet, app_id: int) -> OAuthApp | None:
    async with shards.directory.read() as conn:
        row = (await conn.execute(select(oauth_apps).where(oauth_apps.c.id == app_id))).first()
    return OAuthApp.from_row(row) if row else None


async def authenticate_client(
    shards: ShardSet, client_id: str | None, client_secret: str | None
) -> OAuthApp:
    if client_id and client_secret:
        async with shards.directory.read() as conn:
            row = (
                await conn.execute(select(oauth_apps).where(oauth_apps.c.client_id == client_id))
            ).first()
        if row and hmac.compare_digest(row.client_secret_hash, _hash(client_secret)):
            return OAuthApp.from_row(row)
    raise OAuthError(
        "invalid_client", _("The app could not be identified: check its id and secret."), 401
    )


def check_redirect_uri(app: OAuthApp, redirect_uri: str | None) -> str:
    """The redirect URI to use: one the app registered (its only one if none is named)."""
    if not redirect_uri and len(app.redirect_uris) == 1:
        return app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise OAuthError(
            "invalid_request", _("That redirect URI was not registered for this app."), 400
        )
    return redirect_uri


def check_scopes(app: OAuthApp, text: str | None) -> frozenset[str]:
    """What the client asks for, which must lie within what the app registered."""
    wanted = requested_scopes(text, scope_names.render(app.scopes))
    if not scope_names.within(wanted, app.scopes):
        raise OAuthError(
            "invalid_scope", _("The app asked for more access than it registered for."), 400
        )
    return wanted


async def issue_code(
    shards: ShardSet, app: OAuthApp, account: Account, redirect_uri: str, granted: frozenset[str]
) -> str:
    code = secrets.token_urlsafe(32)
    async with shards.directory.write() as conn:
        await conn.execute(
            delete(oauth_codes).where(oauth_codes.c.expires_at < utcnow())  # keep it small
        )
        await conn.execute(
            insert(oauth_codes).values(
                code_hash=_hash(code),
                app_id=app.id,
                account_id=account.id,
                redirect_uri=redirect_uri,
                scopes=scope_names.render(granted),
                expires_at=utcnow() + CODE_LIFETIME,
            )
        )
    return code


async def exchange_code(
    shards: ShardSet, app: OAuthApp, code: str | None, redirect_uri: str | None
) -> IssuedToken:
    invalid = OAuthError(
        "invalid_grant", _("That authorization code is not valid: it expired or was used."), 400
    )
    if not code:
        raise invalid
    async with shards.directory.write() as conn:
        row = (
            await conn.execute(
                delete(oauth_codes)
                .where(oauth_codes.c.code_hash == _hash(code))
                .returning(*oauth_codes.c)
            )
        ).first()
        # Deleted whatever happens next: a code is good for one try.
    if row is None or row.app_id != app.id or row.expires_at < utcnow():
        raise invalid
    # Required and identical (RFC 6749 4.1.3, and Mastodon's Doorkeeper): a code that leaked
    # through a redirect cannot be cashed in without naming where it was sent.
    if redirect_uri != row.redirect_uri:
        raise invalid
    return await issue_token(shards, app, row.account_id, frozenset(row.scopes.split()))


async def issue_token(
    shards: ShardSet, app: OAuthApp, account_id: int | None, granted: frozenset[str]
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with shards.directory.write() as conn:
        await conn.execute(
            insert(oauth_tokens).values(
                token_hash=_hash(token),
                app_id=app.id,
                account_id=account_id,
                scopes=scope_names.render(granted),
                created_at=now,
                last_used_at=now,
            )
        )
    return IssuedToken(token, granted, now)


async def grant_for_token(shards: ShardSet, token: str) -> Grant | None:
    """What a bearer token may do, in one round trip (token and account share the directory)."""
    if not token or len(token) > 200:
        return None
    token_hash = _hash(token)
    # Cached in this process: a revoke, a password change or a suspension drops it in every
    # process (``caching.changes``); the account comes from its own cache.
    cache = shards.caches.grants
    cached = cache.get(token_hash)
    if cached is not None:
        account_id, app_id, scopes, last_used_at = cached
        account = (await get_many(shards, [account_id])).get(account_id) if account_id else None
        if account_id and account is None:
            return None
    else:
        drops_before = cache.drops
        async with shards.directory.read() as conn:
            row = (
                await conn.execute(
                    select(
                        oauth_tokens.c.app_id,
                        oauth_tokens.c.scopes.label("token_scopes"),
                        oauth_tokens.c.last_used_at,
                        accounts,
                    )
                    .select_from(
                        oauth_tokens.outerjoin(accounts, accounts.c.id == oauth_tokens.c.account_id)
                    )
                    .where(oauth_tokens.c.token_hash == token_hash)
                )
            ).first()
        if row is None:
            return None
        account = Account.from_row(row) if row.id is not None else None
        app_id, scopes, last_used_at = (
            row.app_id,
            frozenset(row.token_scopes.split()),
            row.last_used_at,
        )
        entry = (account.id if account else None, app_id, scopes, last_used_at)
        cache.put_many({token_hash: entry}, drops_before)
    if account is not None and account.suspended:
        return None  # a suspended account's tokens are revoked; this covers a race with that
    now = utcnow()
    if now - last_used_at > TOUCH_INTERVAL:
        async with shards.directory.write() as conn:
            await conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.token_hash == token_hash)
                .values(last_used_at=now)
            )
        cache.put(token_hash, (account.id if account else None, app_id, scopes, now))
    return Grant(app_id, account, scopes, token_hash)


async def revoke_token(shards: ShardSet, app: OAuthApp, token: str) -> None:
    """RFC 7009: revoking an unknown token is not an error."""
    async with shards.directory.write() as conn:
        record_change(conn, "grant", _hash(token))
        await conn.execute(
            delete(oauth_tokens).where(
                oauth_tokens.c.token_hash == _hash(token), oauth_tokens.c.app_id == app.id
            )
        )


async def authorized_apps(shards: ShardSet, account_id: int) -> list[AuthorizedApp]:
    async with shards.directory.read() as conn:
        rows = (
            await conn.execute(
                select(
                    oauth_apps,
                    func.count().label("tokens"),
                    func.min(oauth_tokens.c.created_at).label("first_authorized_at"),
                    func.max(oauth_tokens.c.last_used_at).label("last_used_at"),
                    func.group_concat(oauth_tokens.c.scopes, " ").label("token_scopes")
                    if conn.dialect.name == "sqlite"
                    else func.string_agg(oauth_tokens.c.scopes, " ").label("token_scopes"),
                )
                .join(oauth_tokens, oauth_tokens.c.app_id == oauth_apps.c.id)
                .where(oauth_tokens.c.account_id == account_id)
                .group_by(*oauth_apps.c)
                .order_by(func.max(oauth_tokens.c.last_used_at).desc())
            )
        ).all()
    return [
        AuthorizedApp(
            app=OAuthApp.from_row(row),
            scopes=frozenset(row.token_scopes.split()),
            tokens=row.tokens,
            first_authorized_at=row.first_authorized_at,
            last_used_at=row.last_used_at,
        )
        for row in rows
    ]


async def revoke_app(shards: ShardSet, account_id: int, app_id: int) -> bool:
    """Sign an app out of one person's account: every token it holds for them."""
    async with shards.directory.write() as conn:
        result = await conn.execute(
            delete(oauth_tokens).where(
                oauth_tokens.c.account_id == account_id, oauth_tokens.c.app_id == app_id
            )
        )
        record_change(conn, "credentials_of", account_id)
        await conn.execute(
            delete(oauth_codes).where(
                oauth_codes.c.account_id == account_id, oauth_codes.c.app_id == app_id
            )
        )
    return result.rowcount > 0


async def revoke_all(shards: ShardSet, account_id: int) -> None:
    """Every token and pending code of one account (a suspension, a password change)."""
    async with shards.directory.write() as conn:
        await conn.execute(delete(oauth_tokens).where(oauth_tokens.c.account_id == account_id))
        record_change(conn, "credentials_of", account_id)
        await conn.execute(delete(oauth_codes).where(oauth_codes.c.account_id == account_id))
