"""`trkv import`, `trkv user`, `trkv token` and `trkv mail`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from trkv.settings import get_settings


def ensure_database() -> None:
    """Commands a user runs by hand work on a fresh $TRKV_HOME: migrate first (a no-op when current)."""
    from storage.migrate import upgrade

    settings = get_settings()
    settings.home_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--live", is_flag=True, help="Treat the messages as new: send acknowledgements and pages.")
@click.option("--batch-size", default=None, type=int, help="Messages per transaction (default TRKV_IMPORT_BATCH_SIZE).")
def import_command(path: Path, live: bool, batch_size: int | None) -> None:
    """Import PATH: a JSONL file of inbound messages, an mbox file or a Maildir folder.

    Historical messages get no acknowledgements or pages unless --live. Every
    message is ingested whatever address it was sent to.
    """
    from support.intake.importer import import_path

    ensure_database()
    settings = get_settings()
    report = import_path(path, live=live, batch_size=batch_size or settings.import_batch_size, settings=settings)
    click.echo(report.summary())
    if report.quarantined:
        click.echo(f"{report.quarantined} messages quarantined with their reason (see the quarantine view)")


@click.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["lead", "engineer", "community_manager"]))
@click.option("--name", default="", help="Display name.")
def user_add(email: str, role: str, name: str) -> None:
    """Add a user. The password is read from stdin as one line when stdin is not a terminal."""
    from support.accounts import AccountError, create_user

    ensure_database()
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        create_user(email, role, password, name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {email} added as {role}")


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
def token_create(email: str, name: str) -> None:
    """Create an API token for EMAIL; prints the token alone on its last line."""
    from support.accounts import AccountError, create_token

    ensure_database()
    try:
        value = create_token(email, name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("API token (shown once; send it as 'Authorization: Bearer <token>'):")
    click.echo(value)


@click.group()
def mail() -> None:
    """Email tools."""


@mail.command("parse")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def mail_parse(file: Path, as_json: bool) -> None:
    """Parse an RFC 822 FILE as the email connector would; needs no database."""
    from support.intake.mailcheck import check

    try:
        raw = file.read_bytes()
        result = check(raw)
    except (OSError, ValueError) as exc:
        click.echo(f"cannot parse {file}: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str, indent=2))
    else:
        message = result["message"]
        click.echo(f"would acknowledge: {result['would_acknowledge']} ({result['reason']})")
        click.echo(f"from: {message['author_email'] or message['author_id']}\nsubject: {message['subject']}")
        click.echo(message["text"][:2000])
