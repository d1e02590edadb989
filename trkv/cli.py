"""The `trkv` command line. Every command has --help and works from any folder."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading

import click

from trkv.cli_base import forget_settings, get_settings
from trkv.choices import WORKER_POOLS

log = logging.getLogger("trkv")


def _setup_logging() -> None:
    level = getattr(logging, get_settings().log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from trkv.settings import MaskUrlPasswords

    for handler in logging.getLogger().handlers:  # URLs' passwords never reach a log, whoever logs them
        handler.addFilter(MaskUrlPasswords())
    for noisy in ("httpx", "alembic.runtime.migration", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """TRKV support hub: Discord, X and email in one triaged inbox."""
    _setup_logging()


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run again)."""
    from storage.migrate import upgrade

    upgrade(get_settings().db_url)
    click.echo("database is up to date")


@main.command()
def init() -> None:
    """Create $TRKV_HOME, migrate the database, and create the first lead account."""
    _init()


def _init() -> None:
    from storage.migrate import upgrade
    from support import accounts

    settings = get_settings()
    settings.home_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)
    settings.session_secret()
    if not accounts.has_users(settings):
        email, password = "lead@trkv.local", secrets.token_urlsafe(12)
        accounts.create_user(email, "lead", password, name="Support Lead", settings=settings)
        click.secho(
            f"\nFirst lead account (shown once): {email} / {password}\n"
            f"Log in at {settings.public_url.rstrip('/')}/login\n",
            fg="green",
        )


@main.command()
@click.option("--host", default=None, help="Address to listen on (TRKV_WEB_HOST).")
@click.option("--port", default=None, type=int, help="Port (TRKV_WEB_PORT).")
def web(host: str | None, port: int | None) -> None:
    """Run the web inbox and the JSON API."""
    import uvicorn

    from inbox.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.web_host, port=port or settings.web_port,
                log_level="warning", proxy_headers=True)


@main.command()
@click.option("-Q", "--queues", default="critical,default,bulk", show_default=True, help="Queues to consume.")
@click.option("-c", "--concurrency", default=2, show_default=True, help="Worker processes (or threads).")
@click.option("-B", "--beat", is_flag=True, help="Also run the beat scheduler (one per deployment).")
@click.option("-n", "--name", default=None, help="Worker node name (default: <first queue>@<host>).")
@click.option("-P", "--pool", type=click.Choice(WORKER_POOLS), default=None,
              help="Celery pool (TRKV_WORKER_POOL; auto: threads for live queues only, processes with bulk).")
def worker(queues: str, concurrency: int, beat: bool, name: str | None, pool: str | None) -> None:
    """Run a Celery worker. Give the critical queue a worker of its own in production."""
    from trkv import memory
    from trkv.celery_app import pool_for
    from worker import app, queue_name

    memory.tune()  # the pool, forked from this process, inherits it
    settings = get_settings()
    plain = [q.strip() for q in queues.split(",") if q.strip()]
    argv = ["worker", "-Q", ",".join(queue_name(q) for q in plain), "-c", str(concurrency),
            "-P", pool_for(plain, pool or settings.worker_pool), "--loglevel", settings.log_level,
            "-n", name or f"{queues.split(',')[0]}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        argv.append("-B")
    app.worker_main(argv)


@main.command()
def beat() -> None:
    """Run the beat scheduler alone (the periodic sweep)."""
    from worker import app

    app.start(["beat", "--loglevel", get_settings().log_level])


@main.command()
@click.argument("channels", nargs=-1)
def connect(channels: tuple[str, ...]) -> None:
    """Run the receiving connectors: CHANNELS (email, discord, x, demo), or every live one."""
    from support.intake.receive import run

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run(get_settings(), list(channels) or None, stop)


@main.command()
def sweep() -> None:
    """Run one sweep now: re-queue lost work, record SLA breaches."""
    from support.oncall.sweep import sweep as run
    from trkv.cli_admin import ensure_database

    ensure_database()
    click.echo(run())


def _prepare_triage_model() -> None:
    """Train the shipped seed model now if this machine has never done it (once, about
    10-20 s), so that the workers' first messages are not held up by it."""
    from triage import store

    if not store.model_path(store.cache_folder(), store.seed_version()).exists():
        click.echo("preparing the triage model from the seed set (first start only) ...")
    store.seed_model()


@main.command()
@click.option("--no-demo", is_flag=True, help="Do not play the demo feed.")
def up(no_demo: bool) -> None:
    """One-machine mode: migrate, then run the web inbox, workers with beat, and connectors."""
    from trkv.supervisor import Supervisor

    if no_demo:
        os.environ["TRKV_DEMO"] = "0"
        forget_settings()
    _init()
    settings = get_settings()
    _prepare_triage_model()
    click.secho(f"TRKV hub on {settings.public_url}  (data in {settings.home_path}; Ctrl-C stops)", bold=True)
    sys.exit(Supervisor.for_settings(settings).run())


from trkv.cli_admin import import_command, mail, token, user  # noqa: E402

main.add_command(import_command)
main.add_command(user)
main.add_command(token)
main.add_command(mail)
from trkv.cli_oncall import oncall, page  # noqa: E402
from trkv.cli_report import report  # noqa: E402

main.add_command(page)
main.add_command(oncall)
main.add_command(report)
from trkv.cli_triage import eval_ as _triage_eval  # noqa: E402
from trkv.cli_triage import train as _triage_train

main.add_command(_triage_train)
main.add_command(_triage_eval)
from trkv.cli_kb import kb  # noqa: E402

main.add_command(kb)

from trkv.cli_incident import incident  # noqa: E402
main.add_command(incident)
from trkv.cli_maintenance import maintenance  # noqa: E402

main.add_command(maintenance)

if __name__ == "__main__":
    main()
