"""The ``twoorl`` command: serve, migrate."""

from __future__ import annotations

import asyncio
import contextlib
import signal
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
    from twoorl.runtime.services import build_shards
    from twoorl.storage.migrate import migrate_shards

    shards = build_shards(settings)
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

    from twoorl.serving import APP, reuse_port_supported, serve_balanced, tune_collector

    settings = _settings()
    _run_migrations(settings)
    typer.echo(f"Twoorl on http://{host}:{port}  (data: {settings.data_dir.resolve()})")
    options = {"proxy_headers": False, "log_level": "info"}
    if workers > 1 and reuse_port_supported():
        # A socket per worker, so connections are spread evenly (see twoorl.serving).
        serve_balanced(host, port, workers, options)
        return
    tune_collector()
    uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)


@cli.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 4,
) -> None:
    """Run background jobs (any number of these processes, on any machine)."""
    settings = _settings()
    _run_migrations(settings)
    typer.echo(f"Twoorl worker: {len(settings.shard_urls)} shard(s), concurrency {concurrency}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_work(settings, concurrency))


async def _work(settings: Settings, concurrency: int) -> None:
    from twoorl.live.broker import build_broker
    from twoorl.runtime.services import build_shards, build_timelines, build_worker

    shards = build_shards(settings)
    broker = build_broker(settings.redis_url)
    timelines = build_timelines(settings, shards)
    await broker.start()
    running = asyncio.current_task()
    assert running is not None
    # SIGTERM (a deploy, systemd stop) ends the loops between jobs' awaits; a job cut short
    # is simply run again once its lease runs out.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, running.cancel)
    try:
        await build_worker(settings, shards, broker, timelines).run_forever(concurrency)
    except asyncio.CancelledError:
        typer.echo("Twoorl worker: stopped.")
    finally:
        await broker.stop()
        if timelines:
            await timelines.close()
        await shards.dispose()


@cli.command("demo-data")
def demo_data(
    users: Annotated[int, typer.Option(min=1, help="Demo accounts to create.")] = 100,
    posts_per_user: Annotated[int, typer.Option(min=0, help="Posts each one writes.")] = 20,
    follows_per_user: Annotated[int, typer.Option(min=0, help="Accounts each follows.")] = 20,
    seed: Annotated[int | None, typer.Option(help="Random seed, for the same data again.")] = None,
    days: Annotated[float, typer.Option(help="Spread posts over the last D days.")] = 7.0,
    prefix: Annotated[str, typer.Option(help="Usernames are PREFIX1..PREFIXN.")] = "demo",
) -> None:
    """Fill the shards with demo people, posts and follows, in bulk.

    Every demo account signs in with the password "twoorl-demo"; emails are
    PREFIXn@example.invalid. Follows favour a few popular accounts, as real networks do.
    """
    from twoorl.accounts.passwords import Passwords
    from twoorl.demo import DEMO_PASSWORD, DemoError, DemoSpec, populate
    from twoorl.runtime.services import build_shards

    settings = _settings()
    try:
        spec = DemoSpec(
            users=users,
            posts_per_user=posts_per_user,
            follows_per_user=follows_per_user,
            seed=seed,
            days=days,
            prefix=prefix,
            max_post_length=settings.max_post_length,
        )
    except DemoError as error:
        typer.echo(f"twoorl: {error}", err=True)
        raise typer.Exit(2) from None
    _run_migrations(settings)

    async def run():
        shards = build_shards(settings)
        try:
            return await populate(shards, spec, passwords=Passwords(settings.password_hash_profile))
        finally:
            await shards.dispose()

    try:
        summary = asyncio.run(run())
    except DemoError as error:
        typer.echo(f"twoorl: {error}", err=True)
        raise typer.Exit(1) from None
    except (OSError, ConnectionError) as error:
        typer.echo(f"twoorl: cannot reach a database in TWOORL_SHARDS: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Created {summary.users} demo accounts ({spec.username(1)}..{spec.username(users)}, "
        f'password "{DEMO_PASSWORD}"): {summary.posts} posts ({summary.tags} hashtags), '
        f"{summary.follows} follows, {summary.notifications} notifications."
    )
    typer.echo(
        f"Wrote {summary.rows} rows to {len(settings.shard_urls)} shard(s) in "
        f"{summary.seconds:.1f} s: {summary.rows_per_second:,.0f} rows/s."
    )


jobs_cli = typer.Typer(help="Inspect and repair the job queues.", invoke_without_command=True)
cli.add_typer(jobs_cli, name="jobs")


@jobs_cli.callback()
def jobs(context: typer.Context) -> None:
    """Pending and failed jobs per shard."""
    if context.invoked_subcommand is not None:
        return
    from twoorl.jobs.admin import queue_counts

    rows = asyncio.run(_with_shards(_settings(), queue_counts))
    typer.echo(f"{'shard':>5}  {'pending':>8}  {'failed':>7}")
    for row in rows:
        typer.echo(f"{row.shard:>5}  {row.pending:>8}  {row.failed:>7}")
    typer.echo(f"{'all':>5}  {sum(r.pending for r in rows):>8}  {sum(r.failed for r in rows):>7}")


@jobs_cli.command("retry-failed")
def retry_failed() -> None:
    """Re-queue every parked (failed) job, with a fresh set of attempts."""
    from twoorl.jobs.admin import retry_failed as requeue

    count = asyncio.run(_with_shards(_settings(), requeue))
    typer.echo(f"Re-queued {count} failed job(s).")


admin_cli = typer.Typer(help="Create admins and grant roles.", no_args_is_help=True)
cli.add_typer(admin_cli, name="admin")


@admin_cli.command("create")
def admin_create(
    username: Annotated[str, typer.Option(help="The new admin's username.")],
    email: Annotated[str, typer.Option(help="The new admin's email address.")],
    password_file: Annotated[
        typer.FileText | None,
        typer.Option(help="Read the password from this file ('-' for stdin) instead of asking."),
    ] = None,
) -> None:
    """Create an account with the admin role (the password is asked for, never an argument,
    so it stays out of the shell history and the process list)."""
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    _run_migrations(settings)

    async def create(shards):
        from twoorl.accounts.passwords import Passwords
        from twoorl.accounts.service import register
        from twoorl.moderation.roles import Role
        from twoorl.moderation.service import grant_role

        account = await register(
            shards,
            Passwords(settings.password_hash_profile),
            username=username,
            email=email,
            password=password,
        )
        # No reason text: the log already says "command line", in the reader's language.
        await grant_role(shards, None, account, Role.ADMIN)
        return account

    account = _moderate(settings, create)
    typer.echo(f"Created admin @{account.username}.")


@admin_cli.command("grant")
def admin_grant(
    username: Annotated[str, typer.Argument(help="Whose role to set.")],
    role: Annotated[str, typer.Argument(help="user, moderator or admin.")],
) -> None:
    """Set someone's role (user takes a role away)."""
    from twoorl.moderation.roles import Role

    try:
        chosen = Role(role)
    except ValueError:
        typer.echo("twoorl: the role must be user, moderator or admin", err=True)
        raise typer.Exit(2) from None
    settings = _settings()

    async def grant(shards):
        from twoorl.accounts.service import get_by_username
        from twoorl.moderation.service import grant_role

        account = await get_by_username(shards, username.removeprefix("@"))
        if account is None:
            return None
        await grant_role(shards, None, account, chosen, "granted from the command line")
        return account

    if _moderate(settings, grant) is None:
        typer.echo(f"twoorl: nobody is called @{username.removeprefix('@')}", err=True)
        raise typer.Exit(1)
    typer.echo(f"@{username.removeprefix('@')} is now {chosen.value}.")


def _moderate(settings: Settings, action):
    from twoorl.errors import TwoorlError

    try:
        return asyncio.run(_with_shards(settings, action))
    except TwoorlError as error:
        typer.echo(f"twoorl: {error.message}", err=True)
        raise typer.Exit(1) from None


async def _with_shards(settings: Settings, action):
    from twoorl.runtime.services import build_shards

    shards = build_shards(settings)
    try:
        return await action(shards)
    finally:
        await shards.dispose()


def main() -> None:
    sys.exit(cli())
