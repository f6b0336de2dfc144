"""Account directory operations. The directory lives on the first shard (``shards.directory``)
so that usernames and emails are unique across the whole cluster."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from twoorl.accounts.models import Account, Counts
from twoorl.accounts.passwords import Passwords
from twoorl.accounts.tables import account_counters, accounts
from twoorl.accounts.validation import (
    USERNAME_RE,
    clean_bio,
    clean_color,
    clean_display_name,
    clean_email,
    clean_password,
    clean_username,
)
from twoorl.caching.changes import record_change
from twoorl.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from twoorl.i18n import LOCALES, _
from twoorl.ids import new_owner_id
from twoorl.posts.tables import author_heads
from twoorl.posts.text import strip_control_characters
from twoorl.stats import service as stats
from twoorl.storage.shards import ShardSet
from twoorl.storage.types import utcnow

SUPPORTED_LOCALE_CODES = LOCALES


async def register(
    shards: ShardSet, passwords: Passwords, *, username: str, email: str, password: str
) -> Account:
    username = clean_username(username)
    email = clean_email(email)
    clean_password(password)
    await _ensure_available(shards, username=username, email=email)
    password_hash = await passwords.hash(password)
    values = {
        "id": new_owner_id(),
        "username": username,
        "username_key": username.lower(),
        "email": email,
        "email_key": email.lower(),
        "password_hash": password_hash,
        "display_name": "",
        "bio": "",
        "use_gravatar": False,
        "profile_color": "#1d9bf0",
        "created_at": utcnow(),
    }
    try:
        async with shards.directory.write() as conn:
            await conn.execute(insert(accounts).values(**values))
            record_change(conn, "username", values["username_key"])  # no longer nobody's
            # Stats: the day's registrations, in the account's own transaction.
            await stats.count_registration(conn, values["id"], values["created_at"])
    except IntegrityError:
        # Someone took the name or address between our check and our insert.
        await _ensure_available(shards, username=username, email=email)
        raise
    account = await get_by_id(shards, values["id"])
    assert account is not None
    return account


async def _ensure_available(shards: ShardSet, *, username: str, email: str | None) -> None:
    async with shards.directory.read() as conn:
        taken = (
            await conn.execute(
                select(accounts.c.username_key, accounts.c.email_key).where(
                    (accounts.c.username_key == username.lower())
                    | (accounts.c.email_key == (email or "").lower())
                )
            )
        ).all()
    for row in taken:
        if row.username_key == username.lower():
            raise Conflict(_("That username is taken."), field="username")
        raise Conflict(_("An account with that email address already exists."), field="email")


async def authenticate(
    shards: ShardSet, passwords: Passwords, *, login: str, password: str
) -> Account:
    """The account for a username or email and its password, or Unauthorized."""
    key = strip_control_characters(login).strip().removeprefix("@").lower()
    column = accounts.c.email_key if "@" in key else accounts.c.username_key
    async with shards.directory.read() as conn:
        row = (await conn.execute(select(accounts).where(column == key))).first()
    if not await passwords.verify(row.password_hash if row else None, password) or row is None:
        raise Unauthorized(_("Wrong username, email or password."), field="login")
    if row.suspended_at is not None:
        # Said only to someone who knows the password: it reveals nothing to a guesser.
        raise Forbidden(_("This account is suspended. It cannot sign in or post."), field="login")
    if passwords.needs_rehash(row.password_hash):
        await _set_password_hash(shards, row.id, await passwords.hash(password))
    return Account.from_row(row)


async def get_by_id(shards: ShardSet, account_id: int) -> Account | None:
    found = await get_many(shards, [account_id])
    return found.get(account_id)


async def get_many(shards: ShardSet, account_ids: Iterable[int]) -> dict[int, Account]:
    return await get_many_with_usernames(shards, account_ids, ())


async def get_many_with_usernames(
    shards: ShardSet, account_ids: Iterable[int], usernames: Iterable[str]
) -> dict[int, Account]:
    """The accounts with these ids and those with these (any-case) usernames: a page's
    authors and the people its posts mention. From this process's caches (a change to an
    account drops it everywhere), the rest in one statement on the directory."""
    cache, names = shards.caches.accounts, shards.caches.usernames
    keys = {u.lower() for u in usernames if USERNAME_RE.fullmatch(u)}
    known_names, unknown_names = names.get_many(keys)
    wanted = set(account_ids) | {i for i in known_names.values() if i is not None}
    found, missing = cache.get_many(wanted)
    if not missing and not unknown_names:
        return found
    drops_before, name_drops_before = cache.drops, names.drops
    condition = or_(accounts.c.id.in_(sorted(missing)), accounts.c.username_key.in_(unknown_names))
    async with shards.directory.read() as conn:
        rows = (await conn.execute(select(accounts).where(condition))).all()
    loaded = {row.id: Account.from_row(row) for row in rows}
    cache.put_many(loaded, drops_before)
    by_name: dict[str, int | None] = dict.fromkeys(unknown_names)
    by_name.update((row.username_key, row.id) for row in rows if row.username_key in by_name)
    names.put_many(by_name, name_drops_before)
    return found | loaded


async def get_by_username(shards: ShardSet, username: str) -> Account | None:
    if not USERNAME_RE.fullmatch(username):
        return None  # cannot exist; also keeps stray bytes (NUL) away from the database
    key = username.lower()
    for account in (await get_many_with_usernames(shards, (), [key])).values():
        if account.username.lower() == key:
            return account
    return None


async def ids_for_usernames(shards: ShardSet, usernames: Iterable[str]) -> dict[str, int]:
    """Lower-cased username -> account id, for those that exist."""
    keys = sorted({u.lower() for u in usernames})
    if not keys:
        return {}
    async with shards.directory.read() as conn:
        rows = (
            await conn.execute(
                select(accounts.c.username_key, accounts.c.id).where(
                    accounts.c.username_key.in_(keys)
                )
            )
        ).all()
    return {row.username_key: row.id for row in rows}


async def counts_for(shards: ShardSet, account_id: int) -> Counts:
    counts, _newest = (await stats_for_many(shards, [account_id]))[account_id]
    return counts


async def stats_for_many(
    shards: ShardSet, account_ids: Iterable[int]
) -> dict[int, tuple[Counts, int | None]]:
    """Each account's counts and newest post id (None if it has none): cached in this
    process until a counter changes (a post, a follow), the rest in one query per shard
    (both live on the account's home shard)."""
    cache = shards.caches.account_stats
    found, missing = cache.get_many(set(account_ids))
    if not missing:
        return found
    drops_before = cache.drops
    by_shard = shards.group_by_shard(missing)

    async def fetch(shard, conn):
        ids = by_shard[shard]
        statement = (
            select(
                account_counters.c.account_id,
                account_counters.c.posts,
                account_counters.c.following,
                account_counters.c.followers,
                author_heads.c.head_id,
            )
            .select_from(
                account_counters.outerjoin(
                    author_heads, author_heads.c.author_id == account_counters.c.account_id
                )
            )
            .where(account_counters.c.account_id.in_(ids))
        )
        return (await conn.execute(statement)).all()

    loaded: dict[int, tuple[Counts, int | None]] = {i: (Counts(), None) for i in missing}
    for rows in await shards.gather(fetch, by_shard):
        for row in rows:
            loaded[row.account_id] = (Counts(row.posts, row.following, row.followers), row.head_id)
    cache.put_many(loaded, drops_before)
    return found | loaded


def escape_like(text: str) -> str:
    """``%`` and ``_`` match themselves, not any text."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_by_name(shards: ShardSet, query: str, *, limit: int) -> list[Account]:
    """People whose username or display name starts with ``query``, usernames in order."""
    key = strip_control_characters(query).strip().removeprefix("@").lower()[:50]
    if not key:
        return []
    pattern = escape_like(key) + "%"
    statement = (
        select(accounts)
        .where(
            or_(
                accounts.c.username_key.like(pattern, escape="\\"),
                func.lower(accounts.c.display_name).like(pattern, escape="\\"),
            )
        )
        .order_by(accounts.c.username_key)
        .limit(limit)
    )
    async with shards.directory.read() as conn:
        rows = (await conn.execute(statement)).all()
    return [Account.from_row(row) for row in rows]


async def update_profile(
    shards: ShardSet,
    account: Account,
    *,
    display_name: str,
    bio: str,
    locale: str | None,
    use_gravatar: bool,
    profile_color: str,
) -> Account:
    if locale is not None and locale not in SUPPORTED_LOCALE_CODES:
        raise InvalidInput(_("Choose a language from the list."), field="locale")
    values = {
        "display_name": clean_display_name(display_name),
        "bio": clean_bio(bio),
        "locale": locale,
        "use_gravatar": use_gravatar,
        "profile_color": clean_color(profile_color),
    }
    async with shards.directory.write() as conn:
        await conn.execute(update(accounts).where(accounts.c.id == account.id).values(**values))
        record_change(conn, "account", account.id)
    updated = await get_by_id(shards, account.id)
    assert updated is not None
    return updated


async def change_credentials(
    shards: ShardSet,
    passwords: Passwords,
    account: Account,
    *,
    current_password: str,
    new_email: str | None = None,
    new_password: str | None = None,
) -> Account:
    """Change email and/or password; both need the current password."""
    async with shards.directory.read() as conn:
        current_hash = (
            await conn.execute(select(accounts.c.password_hash).where(accounts.c.id == account.id))
        ).scalar_one()
    if not await passwords.verify(current_hash, current_password):
        raise InvalidInput(_("Your current password is not right."), field="current_password")
    values: dict[str, object] = {}
    if new_email is not None and new_email.strip().lower() != account.email.lower():
        email = clean_email(new_email)
        async with shards.directory.read() as conn:
            clash = (
                await conn.execute(
                    select(func.count()).where(accounts.c.email_key == email.lower())
                )
            ).scalar_one()
        if clash:
            raise Conflict(_("An account with that email address already exists."), field="email")
        values.update(email=email, email_key=email.lower())
    if new_password:
        values["password_hash"] = await passwords.hash(clean_password(new_password, "new_password"))
    if values:
        try:
            async with shards.directory.write() as conn:
                await conn.execute(
                    update(accounts).where(accounts.c.id == account.id).values(**values)
                )
                record_change(conn, "account", account.id)
        except IntegrityError:
            raise Conflict(
                _("An account with that email address already exists."), field="email"
            ) from None
    updated = await get_by_id(shards, account.id)
    assert updated is not None
    return updated


async def _set_password_hash(shards: ShardSet, account_id: int, password_hash: str) -> None:
    async with shards.directory.write() as conn:
        await conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash)
        )
