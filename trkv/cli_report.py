"""`trkv report weekly`: the weekly review (volume, topics, satisfaction and sentiment,
SLA, incidents, feature-request themes, action items) as text or JSON."""

from __future__ import annotations

import json
import sys

import click

from trkv.cli_admin import ensure_database
from trkv.settings import get_settings


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
    click.echo(text(result))


def text(result: dict) -> str:
    total = result["volume"]["total"]
    lines = [f"Weekly review {result['week']}",
             f"Tickets: {total['this_week']} (last week {total['last_week']}, 4-week average {total['avg_4w']})"]
    for dimension, rows in result["volume"]["by"].items():
        flagged = [f"{r['value']} {r['flag']} ({r['this_week']} vs {r['avg_4w']})" for r in rows if r["flag"]]
        if flagged:
            lines.append(f"  {dimension}: " + ", ".join(flagged))
    lines.append("Topics:")
    lines += [f"  {t['name']}: {t['tickets']} ({t['trend']})" for t in result["topics"]] or ["  none"]
    csat = result["csat"]
    lines.append(f"Satisfaction: {_pct(csat['satisfaction'])} of {csat['answers']} answers; "
                 f"sentiment {csat['weeks'][0]['sentiment']}")
    lines.append(f"SLA: first response {_pct(result['sla']['first_response'])}, "
                 f"resolution {_pct(result['sla']['resolution'])}")
    lines.append(f"Incidents: {len(result['incidents'])}")
    lines.append("Feature requests:")
    lines += [f"  {t['theme']}: {t['requesters']} requesters × growth {t['growth']} = {t['score']}"
              + (f" [{t['status']}]" if t["status"] else "") for t in result["feature_requests"]] or ["  none"]
    return "\n".join(lines)


def _pct(value) -> str:
    return "no data" if value is None else f"{value} %"
