"""Runtime configuration, read from ``TWOORL_*`` environment variables.

Nothing here runs at import time: :func:`load_settings` builds a :class:`Settings` when the
app or the CLI starts, and a bad value becomes one :class:`SettingsError` line that names the
variable.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
SECRET_KEY_FILE = "secret_key"


class SettingsError(Exception):
    """A configuration value is unusable; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWOORL_", extra="ignore")

    data_dir: Path = Path("./data")
    # Empty means "one SQLite file in the data dir"; see ``shard_urls``.
    shards: Annotated[list[str], NoDecode] = Field(default_factory=list)
    secret_key: str = ""
    max_post_length: int = Field(default=140, ge=1, le=100_000)
    # Limits strings in the syntax of the ``limits`` library, per client IP.
    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "5/hour"
    # Per token (or per IP without one), as Mastodon: 300 requests in 5 minutes.
    rate_limit_api: str = "300/5minutes"
    # How often live streams send a heartbeat comment (keeps proxies from closing idle ones).
    stream_heartbeat_seconds: float = Field(default=15, gt=0, le=300)
    # "cheapest" exists for test suites that register hundreds of users.
    password_hash_profile: Literal["rfc_9106_low_memory", "cheapest"] = "rfc_9106_low_memory"
    # Run the job worker inside each web process (the embedded default).
    inline_workers: bool = True
    base_url: str = ""
    # Redis enables cross-process live events and fan-out home timelines.
    redis_url: str | None = None
    # Every Redis key Twoorl writes starts with this (several deployments can share a Redis).
    redis_prefix: str = Field(default="twoorl:", min_length=1, max_length=64)
    # Ids kept per cached home timeline; older pages come from fan-in.
    timeline_cap: int = Field(default=800, ge=1, le=100_000)
    # Authors with more followers than this are merged in at read time, not fanned out.
    fanout_max_followers: int = Field(default=10_000, ge=0)
    # A cached timeline unread for this long expires; its owner gets no fan-out until they
    # return, when fan-in rebuilds it.
    fanout_active_days: float = Field(default=7, gt=0, le=3650)
    # Connections each process keeps open to each shard (PostgreSQL): processes x shards x
    # this must stay under the server's max_connections.
    db_pool_size: int = Field(default=10, ge=1, le=500)
    # A shard that has not answered a timeline query by then fails the page with a 503.
    shard_timeout_seconds: float = Field(default=5, gt=0, le=300)
    job_max_attempts: int = Field(default=8, ge=1, le=100)
    # How long a claimed job stays leased to its worker before another may take it over.
    job_lease_seconds: float = Field(default=60, gt=0, le=86_400)
    # Serve the session cookie with the Secure flag (set this behind https).
    secure_cookies: bool = False

    @field_validator("shards", mode="before")
    @classmethod
    def _split_shards(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("shards")
    @classmethod
    def _check_shard_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            try:
                driver = make_url(url).drivername
            except ArgumentError as exc:
                raise ValueError(f"{url!r} is not a database URL") from exc
            if driver not in SUPPORTED_DRIVERS:
                raise ValueError(
                    f"{url!r}: unsupported driver {driver!r} (use one of "
                    f"{', '.join(SUPPORTED_DRIVERS)})"
                )
        if len(set(urls)) != len(urls):
            raise ValueError("the same database is listed twice")
        return urls

    @property
    def shard_urls(self) -> list[str]:
        if self.shards:
            return self.shards
        return [f"sqlite+aiosqlite:///{(self.data_dir / 's0.db').as_posix()}"]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (plus ``overrides``), creating the data dir and a
    persistent secret key on first run."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"TWOORL_{field.upper()}: {message}") from None
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"TWOORL_DATA_DIR: cannot create {settings.data_dir}: {exc}") from None
    if not settings.secret_key:
        settings.secret_key = _persistent_secret_key(settings.data_dir)
    elif len(settings.secret_key) < 32:
        raise SettingsError("TWOORL_SECRET_KEY: use at least 32 characters")
    return settings


def _persistent_secret_key(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if len(key) >= 32:
            return key
        raise SettingsError(
            f"TWOORL_SECRET_KEY: the saved key in {path} is damaged; "
            "delete the file to make a new one"
        )
    key = secrets.token_urlsafe(48)
    # Write then rename, so a crash never leaves an empty or partial key behind.
    partial = path.with_suffix(".partial")
    partial.touch(mode=0o600)
    partial.write_text(key + "\n")
    partial.replace(path)
    return key
