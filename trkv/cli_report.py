"""`trkv report weekly`: the weekly review (volume, topics, satisfaction and sentiment,
SLA, incidents, feature-request themes, action items) as text or JSON."""

from __future__ import annotations

import json
import sys

import click

from trkv.cli_admin import ensure_database
from trkv.cli_base import get_settings


@click.group()
def report() -> None:
    """Reports: the weekly review."""


@report.command("weekly")
@click.option("--week", default=None, help="The ISO week, YYYY-Www (default: the last complete week).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
def weekly(week: str | None, as_json: bool) -> None:
    """The weekly review of WEEK: what changed, what people talk about and how happy they are."""
    from support.feedback import review

    ensure_database()
    try:
        result = review.weekly(week, get_settings())
    except review.WeekError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    from support.feedback.review_mail import text

    click.echo(text(result))

