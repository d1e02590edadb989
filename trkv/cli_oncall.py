"""`trkv page` (acknowledge and list alerts) and `trkv oncall` (schedules, overrides,
escalation policies, contacts)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime

import click

from trkv.cli_admin import ensure_database
from trkv.cli_base import get_settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
def page() -> None:
    """On-call pages: acknowledge, list."""


@page.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", default=None, help="Who acknowledges (default: the login name of this shell).")
def page_ack(alert_id: int, by: str | None) -> None:
    """Acknowledge alert ALERT_ID: its paging and escalation stop."""
    from support.oncall.paging import acknowledge

    ensure_database()
    result = acknowledge(alert_id, by or getpass.getuser(), "cli", get_settings())
    if result.outcome == "unknown":
        _fail(f"no alert {alert_id}")
    alert = result.alert
    if result.outcome == "already":
        click.echo(f"alert {alert_id} was already acknowledged by {alert['acknowledged_by']} "
                   f"at {alert['acknowledged_at']}")
    else:
        click.echo(f"alert {alert_id} acknowledged by {alert['acknowledged_by']}; paging stopped")


@page.command("list")
@click.option("--status", type=click.Choice(["triggered", "acknowledged", "resolved"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def page_list(status: str | None, as_json: bool) -> None:
    """Recent alerts: count, escalation step, acknowledged by whom."""
    from support.oncall.paging import list_alerts

    ensure_database()
    items = list_alerts(get_settings(), status)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for a in items:
        ack = f"acked by {a['acknowledged_by']}" if a["acknowledged"] else f"step {a['step']}, unacknowledged"
        click.echo(f"{a['id']:>6}  {a['status']:<12} x{a['count']:<4} {ack:<40} {a['title'][:60]}")


@click.group()
def oncall() -> None:
    """On-call schedules, overrides, escalation policies and contacts."""


def _run(action) -> None:
    from storage.db import transaction
    from support.oncall.rotations import OncallError

    ensure_database()
    try:
        with transaction(get_settings().db_url) as session:
            action(session)
    except OncallError as exc:
        _fail(str(exc))


@oncall.command("schedule")
@click.argument("name")
@click.option("--members", required=True, help="Emails in turn order, comma-separated.")
@click.option("--start", required=True, help="First handoff, local wall-clock time, e.g. 2026-11-30T09:00.")
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the handoffs.")
@click.option("--days", default=7, show_default=True, help="Days per turn (7: weekly rotation).")
def schedule(name: str, members: str, start: str, tz: str, days: int) -> None:
    """Create or replace the rotation NAME."""
    from support.oncall.rotations import add_schedule

    _run(lambda s: add_schedule(s, name, [m.strip() for m in members.split(",") if m.strip()], start, tz, days))
    click.echo(f"schedule {name}: {members} every {days} days from {start} {tz}")


@oncall.command("override")
@click.argument("schedule_name")
@click.argument("email")
@click.option("--from", "starts", required=True, help="ISO time (UTC unless an offset is given).")
@click.option("--until", "ends", required=True, help="ISO time (UTC unless an offset is given).")
def override(schedule_name: str, email: str, starts: str, ends: str) -> None:
    """Put EMAIL on call on SCHEDULE_NAME for a while."""
    from support.oncall.rotations import add_override

    start, end = _when(starts), _when(ends)
    _run(lambda s: add_override(s, schedule_name, email, start, end))
    click.echo(f"{email} is on call on {schedule_name} from {start.isoformat()} until {end.isoformat()}")


@oncall.command("policy")
@click.argument("severity", type=click.Choice(["critical", "major", "minor"]))
@click.argument("steps")
def policy(severity: str, steps: str) -> None:
    """Escalation chain, e.g. 'oncall:5,oncall:5,lead:10' (notify:wait minutes)."""
    from support.oncall.rotations import OncallError, parse_steps, set_policy

    try:
        parsed = parse_steps(steps)
    except OncallError as exc:
        _fail(str(exc))
    _run(lambda s: set_policy(s, severity, parsed))
    click.echo(f"{severity}: {json.dumps(parsed)}")


@oncall.command("contact")
@click.argument("email")
@click.argument("method", type=click.Choice(["email", "discord", "webhook", "pagerduty"]))
@click.argument("address")
def contact(email: str, method: str, address: str) -> None:
    """How to page EMAIL: an address, a Discord user id, a webhook URL or a PagerDuty routing key."""
    from support.oncall.rotations import add_contact

    _run(lambda s: add_contact(s, email, method, address))
    click.echo(f"{email} is paged by {method}")


@oncall.command("who")
def who() -> None:
    """Who is on call now, per schedule."""
    from sqlalchemy import select

    from storage.db import session_factory
    from storage.models.accounts import User
    from storage.models.oncall import OncallSchedule
    from support.oncall.rotations import on_call

    ensure_database()
    now = datetime.now(UTC)
    with session_factory(get_settings().db_url, readonly=True)() as session:
        schedules = session.execute(select(OncallSchedule).order_by(OncallSchedule.id)).scalars().all()
        if not schedules:
            click.echo("no schedules: pages go to the hub-wide webhook/PagerDuty, else the leads")
        for s in schedules:
            user_id = on_call(session, s, now)
            user = session.get(User, user_id) if user_id else None
            click.echo(f"{s.name}: {user.email if user else 'nobody'}")


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{value!r} is not an ISO time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
