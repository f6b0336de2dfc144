"""Account tables. ``accounts`` and ``sessions`` form the directory on the first database;
``account_counters`` lives on each account's home shard."""

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text, or_

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String(30), nullable=False),
    # Lower-cased copies carry the uniqueness: "Alice" and "alice" are one person.
    Column("username_key", String(30), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("display_name", String(50), nullable=False, server_default=""),
    Column("bio", Text, nullable=False, server_default=""),
    Column("locale", String(16), nullable=True),
    Column("use_gravatar", Boolean, nullable=False, server_default="0"),
    Column("profile_color", String(7), nullable=False, server_default="#1d9bf0"),
    Column("created_at", UTCDateTime, nullable=False),
    # Moderation (migration 0007): "user", "moderator" or "admin"; a spammer's posts leave
    # the shared timelines, search and the directory; a suspended account cannot sign in.
    Column("role", String(16), nullable=False, server_default="user"),
    Column("spam", Boolean, nullable=False, server_default="0"),
    Column("suspended_at", UTCDateTime, nullable=True),
)

# Spammers and suspended accounts: few, and found through this partial index (search and the
# directory leave them out) without reading every account.
MODERATED = or_(accounts.c.spam.is_(True), accounts.c.suspended_at.is_not(None))
Index("ix_accounts_moderated", accounts.c.id, postgresql_where=MODERATED, sqlite_where=MODERATED)

sessions = Table(
    "sessions",
    metadata,
    # Only a hash of the cookie's token is stored: a database leak cannot be replayed.
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", BigInteger, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("user_agent", String(200), nullable=False, server_default=""),
    Column("ip", String(45), nullable=False, server_default=""),
)

account_counters = Table(
    "account_counters",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("posts", Integer, nullable=False, server_default="0"),
    Column("following", Integer, nullable=False, server_default="0"),
    Column("followers", Integer, nullable=False, server_default="0"),
)
