"""`trkv import`, `trkv user`, `trkv token` and `trkv mail`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from trkv.cli_base import get_settings


def ensure_database() -> None:
    """Commands a user runs by hand work on a fresh $TRKV_HOME: migrate first (a no-op when current)."""
    from storage.migrate import upgrade_if_needed

    settings = get_settings()
    settings.home_path.mkdir(parents=True, exist_ok=True)
    upgrade_if_needed(settings.db_url)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--live", is_flag=True, help="Treat the messages as new: send acknowledgements and pages.")
@click.option("--batch-size", default=None, type=int, help="Messages per transaction (default TRKV_IMPORT_BATCH_SIZE).")
@click.option("--index-now", is_flag=True,
              help="Index the imported tickets for search before returning, instead of leaving it to the worker.")
def import_command(path: Path, live: bool, batch_size: int | None, index_now: bool) -> None:
    """Import PATH: a JSONL file of inbound messages, an mbox file or a Maildir folder.

    Historical messages get no acknowledgements or pages unless --live. Every
    message is ingested whatever address it was sent to. A historical import's tickets
    are indexed for full-text search afterwards, by the worker (or here, with
    --index-now); until then the inbox's search finds them by substring.
    """
    from support.intake.importer import import_path
    from trkv.priority import background

    ensure_database()
    settings = get_settings()
    # Bulk work yields the cores to live work: measured by bench/paging.py, an import at full
    # priority on both cores held pages and live acknowledgements back by seconds.
    with background(0 if live else settings.import_nice):
        report = import_path(path, live=live, batch_size=batch_size or settings.import_batch_size, settings=settings)
        click.echo(report.summary())
        if report.quarantined:
            click.echo(f"{report.quarantined} messages quarantined with their reason (see the quarantine view)")
        if not live:
            _index_for_search(settings, index_now)


def _index_for_search(settings, now: bool) -> None:
    from support.tickets.search_index import index_pending, pending

    waiting = pending(settings)
    if not waiting:
        return
    if not now:
        click.echo(f"{waiting:,} tickets wait for the search index: a running worker indexes them "
                   "(until then search finds them by substring; --index-now waits for it)")
        return
    with click.progressbar(length=waiting, label="indexing for search", show_pos=True, show_eta=True) as bar:
        done = index_pending(settings, progress=bar.update)
    click.echo(f"{done:,} tickets indexed for search")


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
    password = _read_password()
    try:
        create_user(email, role, password, name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {email} added as {role}")


@user.command("list")
def user_list() -> None:
    """List users: email, role, active or not."""
    from support.accounts import list_users

    ensure_database()
    for u in list_users():
        click.echo(f"{u.email:<40} {u.role:<18} {'active' if u.active else 'deactivated'}")


@user.command("deactivate")
@click.argument("email")
def user_deactivate(email: str) -> None:
    """Deactivate EMAIL: their web sessions end at once and their API tokens stop working."""
    _set_active(email, False)
    click.echo(f"user {email} deactivated; their sessions and tokens no longer work")


@user.command("activate")
@click.argument("email")
def user_activate(email: str) -> None:
    """Reactivate EMAIL (they log in again; tokens that were not revoked work again)."""
    _set_active(email, True)
    click.echo(f"user {email} activated")


@user.command("password")
@click.argument("email")
def user_password(email: str) -> None:
    """Set EMAIL's password (read as `user add` reads it); every web session of theirs ends."""
    from support.accounts import AccountError, set_password

    ensure_database()
    try:
        set_password(email, _read_password())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {email} changed; their web sessions have ended")


def _set_active(email: str, active: bool) -> None:
    from support.accounts import AccountError, set_active

    ensure_database()
    try:
        set_active(email, active)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
def token_create(email: str, name: str) -> None:
    """Create an API token for EMAIL; prints the token alone on its last line."""
    from support.accounts import TOKEN_PREFIX_CHARS, AccountError, create_token_row

    ensure_database()
    try:
        token_id, value = create_token_row(email, name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"API token {token_id} ({value[:TOKEN_PREFIX_CHARS]}...; revoke with `trkv token revoke {token_id}`).")
    click.echo("Shown once; send it as 'Authorization: Bearer <token>':")
    click.echo(value)


@token.command("list")
@click.argument("email", required=False)
def token_list(email: str | None) -> None:
    """List API tokens (all, or EMAIL's): id, prefix, owner, name, last use, revoked or not."""
    from support.accounts import list_tokens

    ensure_database()
    for t in list_tokens(email):
        used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never used"
        state = f"revoked {t.revoked_at.isoformat(timespec='minutes')}" if t.revoked_at else "live"
        click.echo(f"{t.id:>5}  {t.prefix or '-':<13} {t.email:<32} {t.name[:24]:<24} {used:<22} {state}")


@token.command("revoke")
@click.argument("token_ref")
def token_revoke(token_ref: str) -> None:
    """Revoke a token named by its id, its prefix (as `token list` shows it) or the whole token."""
    from support.accounts import AccountError, find_tokens, revoke_token

    ensure_database()
    try:
        found = find_tokens(token_ref)
        if len(found) != 1:
            raise AccountError(f"{len(found)} tokens match {token_ref[:20]!r}: give the token's id")
        revoked = revoke_token(found[0].id)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {found[0].id} of {found[0].email} {'revoked' if revoked else 'was already revoked'}")


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
