"""OAuth tables, in the account directory (the first database) beside ``sessions``: a token
names an account, and looking one up must not depend on which shard the account lives on."""

from sqlalchemy import BigInteger, Column, String, Table, Text

from twoorl.storage.metadata import metadata
from twoorl.storage.types import UTCDateTime

oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("client_id", String(64), nullable=False, unique=True),
    # Secrets, codes and tokens are stored as SHA-256 hashes: a leaked table cannot be replayed.
    Column("client_secret_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("website", String(2000), nullable=True),
    Column("redirect_uris", Text, nullable=False),  # newline-separated
    Column("scopes", String(1000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("app_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("redirect_uri", String(2000), nullable=False),
    Column("scopes", String(1000), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("app_id", BigInteger, nullable=False, index=True),
    # NULL for an app's own token (the client_credentials grant): it acts for nobody.
    Column("account_id", BigInteger, nullable=True, index=True),
    Column("scopes", String(1000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
)
