"""`trkv maintenance schedule|list|change|cancel|tick`: scheduled maintenance from a shell
(support/incidents/maintenance.py, imported only when a command runs). Whoever runs
the CLI on the hub's host acts as a lead, like `trkv incident`."""

from __future__ import annotations

import json
from datetime import datetime

import click

from trkv.cli_base import get_settings
from trkv.cli_incident import _actor, _run


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time, e.g. 2026-12-24T02:00") from exc


def _line(w: dict) -> str:
    return (f"{w['id']:>5}  {w['status']:<11} {w['starts_at'][:16]} to {w['ends_at'][:16]} UTC  "
            f"{', '.join(w['components']) or 'all components'}  {w['title'][:50]}")


@click.group()
def maintenance() -> None:
    """Scheduled maintenance: schedule (announced at once), list, change, cancel."""


@maintenance.command("schedule")
@click.argument("title")
@click.option("--start", "start", required=True, help="When it starts, ISO 8601 (no zone: UTC).")
@click.option("--end", "end", required=True, help="When it ends, ISO 8601 (no zone: UTC).")
@click.option("--component", "components", multiple=True, help="An affected component (repeatable; none: all).")
@click.option("--description", default="", help="What users will notice.")
@click.option("--by", default=None, help="Who schedules (default: the login name of this shell).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedule(title: str, start: str, end: str, components, description: str, by, as_json: bool) -> None:
    """Schedule a window and announce it on the status page, Discord, X and to subscribers."""
    from support.incidents import maintenance as windows

    window = _run(lambda: windows.schedule(title, _when(start), _when(end), _actor(by), components_=list(components),
                                           description=description, settings=get_settings()))
    click.echo(json.dumps(window, indent=2) if as_json else f"scheduled and announced:\n{_line(window)}")


@maintenance.command("list")
@click.option("--state", type=click.Choice(["upcoming", "past"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(state: str | None, as_json: bool) -> None:
    """Maintenance windows (upcoming: soonest first)."""
    from support.incidents import maintenance as windows

    items = _run(lambda: windows.list_windows(state, get_settings()))
    if as_json:
        click.echo(json.dumps({"items": items}, indent=2))
        return
    for w in items:
        click.echo(_line(w))
    if not items:
        click.echo("no maintenance windows")


@maintenance.command("change")
@click.argument("window_id", type=int)
@click.option("--start", default=None, help="A new start, ISO 8601 (no zone: UTC).")
@click.option("--end", default=None, help="A new end, ISO 8601 (no zone: UTC).")
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--by", default=None)
def change(window_id: int, start, end, title, description, by) -> None:
    """Change a window that has not started (new times are announced again)."""
    from support.incidents import maintenance as windows

    window = _run(lambda: windows.change(window_id, _actor(by), title=title, description=description,
                                         starts_at=_when(start) if start else None,
                                         ends_at=_when(end) if end else None, settings=get_settings()))
    click.echo(f"changed:\n{_line(window)}")


@maintenance.command("cancel")
@click.argument("window_id", type=int)
@click.option("--by", default=None)
def cancel(window_id: int, by) -> None:
    """Cancel a window that has not started (whoever was told of it is told it is off)."""
    from support.incidents import maintenance as windows

    click.echo(f"cancelled:\n{_line(_run(lambda: windows.cancel(window_id, _actor(by), get_settings())))}")


@maintenance.command("tick")
def tick() -> None:
    """Run what is due now (the beat does this every 30 s): reminders, starts, completions."""
    from support.incidents import maintenance as windows

    ran = _run(lambda: windows.tick(get_settings()))
    for window_id, phase in ran:
        click.echo(f"maintenance {window_id}: {phase}")
    click.echo(f"{len(ran)} notices queued")
