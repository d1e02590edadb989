"""`trkv kb`: load the seed articles; the weekly KB update."""

from __future__ import annotations

import json

import click

from trkv.cli_admin import ensure_database
from trkv.cli_base import get_settings


@click.group()
def kb() -> None:
    """Knowledge base: seed articles, weekly update."""


@kb.command("seed")
def kb_seed() -> None:
    """Publish the 60 TRKV seed articles that are missing (edited ones are kept)."""
    from support.kb import seed

    ensure_database()
    click.echo(f"{seed.load(get_settings())} articles added")


@kb.command("weekly")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option("--days", default=7, show_default=True, help="The window for missing topics and coverage.")
def kb_weekly(as_json: bool, days: int) -> None:
    """Stale articles, falling helpfulness, missing topics, weak articles, documentation coverage."""
    from support.kb import weekly

    ensure_database()
    report = weekly.report(get_settings(), days=days)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    coverage = report["coverage"]
    value = "—" if coverage["value"] is None else f"{coverage['value']:.0%}"
    click.echo(f"Documentation coverage: {value} ({coverage['covered']} of {coverage['resolved']} resolved tickets)")
    click.echo(f"Not reviewed in {report['review_days']} days: {len(report['stale'])}")
    for item in report["stale"][:20]:
        click.echo(f"  {item['slug']} ({item['days']} days)")
    click.echo(f"Falling helpfulness: {len(report['falling_helpfulness'])}")
    for item in report["falling_helpfulness"]:
        click.echo(f"  {item['slug']}: {item['helpful_before']:.0%} -> {item['helpful_now']:.0%}")
    click.echo("Missing topics (searches that found nothing):")
    for item in report["missing_topics"]:
        click.echo(f"  {item['searches']:>4}  {item['query']}")
    click.echo("Weak articles (read, then a ticket within a day):")
    for item in report["weak_articles"]:
        click.echo(f"  {item['slug']}: {item['followed_by_ticket']} of {item['tracked_reads']} tracked reads "
                   f"({item['rate']:.0%}), {item['reads']} page views")
