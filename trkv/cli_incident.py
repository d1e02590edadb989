"""`trkv incident list|open|update|resolve|report`: the incidents of support/incidents/
from a shell. Whoever runs the CLI on the hub's host acts as a lead (like `trkv page ack`)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta

import click

from trkv.cli_admin import ensure_database
from trkv.cli_base import get_settings


def _actor(by: str | None):
    from support.incidents.core import Actor

    return Actor(by or getpass.getuser(), "lead")


def _run(call):
    from support.incidents.core import IncidentError

    ensure_database()
    try:
        return call()
    except IncidentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _show(incident: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(incident, indent=2))
        return
    click.echo(f"incident {incident['id']}: {incident['title']} [{incident['severity']}, {incident['status']}] "
               f"{', '.join(incident['components'])}; {len(incident['ticket_refs'])} linked tickets")


@click.group()
def incident() -> None:
    """Incidents: list, open (declare), update, resolve, report."""


@incident.command("list")
@click.option("--state", type=click.Choice(["proposed", "open", "resolved", "dismissed"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(state: str | None, as_json: bool) -> None:
    """Incidents, newest first (without --state: all but dismissed)."""
    from support.incidents import core

    items = _run(lambda: core.list_incidents(state, get_settings()))
    if as_json:
        click.echo(json.dumps({"items": items}, indent=2))
        return
    for i in items:
        click.echo(f"{i['id']:>5}  {i['status']:<13} {i['severity']:<8} {len(i['ticket_refs']):>4} tickets  {i['title'][:60]}")


@incident.command("open")
@click.argument("title")
@click.option("--severity", type=click.Choice(["critical", "major", "minor"]), required=True)
@click.option("--component", "components", multiple=True, help="An affected component (repeatable).")
@click.option("--message", default=None, help="The first update, published at once.")
@click.option("--ticket", "tickets", multiple=True, help="A ticket to link, e.g. TRKV-12 (repeatable).")
@click.option("--by", default=None, help="Who declares (default: the login name of this shell).")
@click.option("--json", "as_json", is_flag=True)
def open_(title: str, severity: str, components, message, tickets, by, as_json: bool) -> None:
    """Declare an incident (status investigating) and publish its first update."""
    from support.incidents import core

    _show(_run(lambda: core.declare(title, severity, _actor(by), components_=list(components), message=message,
                                    ticket_refs=list(tickets), settings=get_settings())), as_json)


@incident.command("update")
@click.argument("incident_id", type=int)
@click.option("--status", "status_", required=True,
              type=click.Choice(["investigating", "identified", "monitoring", "resolved", "dismissed"]))
@click.option("--message", default="", help="Current status, in the seed's template's words.")
@click.option("--next-minutes", type=int, default=None, help="Promise the next update in this many minutes.")
@click.option("--no-publish", is_flag=True, help="Record only; send nothing.")
@click.option("--by", default=None)
@click.option("--json", "as_json", is_flag=True)
def update(incident_id: int, status_: str, message: str, next_minutes, no_publish: bool, by, as_json: bool) -> None:
    """Post an update (the first one confirms a proposal; --status dismissed drops it)."""
    from storage.models.base import utcnow
    from support.incidents import core

    next_at = utcnow() + timedelta(minutes=next_minutes) if next_minutes else None
    _show(_run(lambda: core.post_update(incident_id, status_, message, _actor(by), next_update_at=next_at,
                                        publish=not no_publish, settings=get_settings())), as_json)


@incident.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--message", required=True, help="The resolving update.")
@click.option("--close-tickets", default=None, help="Also resolve every linked ticket with this closing message.")
@click.option("--by", default=None)
def resolve(incident_id: int, message: str, close_tickets: str | None, by) -> None:
    """Resolve an incident (published), optionally resolving its linked tickets in bulk."""
    from support.incidents import core
    from support.incidents import resolve as bulk

    settings = get_settings()
    _show(_run(lambda: core.post_update(incident_id, "resolved", message, _actor(by), settings=settings)), False)
    if close_tickets:
        count = _run(lambda: bulk.resolve_linked(incident_id, close_tickets, _actor(by), settings))
        click.echo(f"{count} linked tickets resolved")


@incident.command("report")
@click.argument("incident_id", type=int)
@click.option("--root-cause", default=None)
@click.option("--resolution", default=None)
@click.option("--prevention", default=None)
@click.option("--publish", is_flag=True, help="Publish the report as the post-mortem on the status page.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
@click.option("--by", default=None)
def report_(incident_id: int, root_cause, resolution, prevention, publish: bool, as_json: bool, by) -> None:
    """Print the incident report as Markdown (editing the given parts first)."""
    from support.incidents import report

    settings = get_settings()
    fields = {"root_cause": root_cause, "resolution": resolution, "prevention": prevention,
              "published": True if publish else None}
    if any(v is not None for v in fields.values()):
        body = _run(lambda: report.edit(incident_id, fields, _actor(by).who, settings))
    else:
        body = _run(lambda: report.get(incident_id, settings))
    click.echo(json.dumps(body, indent=2) if as_json else body["markdown"])


@incident.command("webhook")
@click.argument("url")
@click.option("--component", "components", multiple=True, help="Follow only these components (repeatable).")
def webhook(url: str, components) -> None:
    """Subscribe a webhook to status updates (POSTed signed, with an Idempotency-Key)."""
    from support.incidents import subscribers
    from support.incidents.subscribers import SubscribeError

    ensure_database()
    try:
        sub_id = subscribers.add_webhook(url, get_settings(), list(components))
    except SubscribeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"webhook subscriber {sub_id}: {url}")
