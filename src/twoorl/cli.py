"""The ``twoorl`` command: serve, migrate."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from twoorl.settings import Settings, SettingsError, load_settings

cli = typer.Typer(help="Twoorl: open-source microblogging.", no_args_is_help=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        typer.echo(f"twoorl: configuration error: {error}", err=True)
        raise typer.Exit(2) from None


async def _migrate(settings: Settings) -> None:
    from twoorl.storage.migrate import migrate_shards
    from twoorl.storage.shards import ShardSet

    shards = ShardSet(settings.shard_urls)
    try:
        await migrate_shards(shards)
    finally:
        await shards.dispose()


def _run_migrations(settings: Settings) -> None:
    try:
        asyncio.run(_migrate(settings))
    except (OSError, ConnectionError) as error:
        typer.echo(f"twoorl: cannot reach a database in TWOORL_SHARDS: {error}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def migrate() -> None:
    """Apply database migrations to every shard."""
    settings = _settings()
    _run_migrations(settings)
    typer.echo(f"Migrated {len(settings.shard_urls)} shard(s).")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Web worker processes.")] = 1,
) -> None:
    """Migrate, then serve the site (with the job worker in-process)."""
    import uvicorn

    settings = _settings()
    _run_migrations(settings)
    typer.echo(f"Twoorl on http://{host}:{port}  (data: {settings.data_dir.resolve()})")
    uvicorn.run(
        "twoorl.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
    )


def main() -> None:
    sys.exit(cli())
