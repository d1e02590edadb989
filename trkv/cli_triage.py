"""`trkv train` and `trkv eval`: the triage model from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from trkv.cli_base import get_settings


@click.command("train")
@click.option("--no-promote", is_flag=True, help="Train and evaluate, but leave the current model in place.")
@click.option("--seed-only", is_flag=True, help="Ignore corrections; train on the seed set alone (needs no database).")
def train(no_promote: bool, seed_only: bool) -> None:
    """Retrain the triage model on the seed set and the team's corrections, evaluate it on
    the held-out split, and promote it if it is not worse than the current one."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from support.retrain import retrain

    try:
        outcome = retrain(get_settings(), promote=not no_promote, use_corrections=not seed_only)
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(
            f"cannot read corrections from the database ({exc.orig}); run `trkv db upgrade`, or train with --seed-only"
        ) from None
    click.echo(outcome.summary())


@click.command("eval")
@click.option("--test", "test_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled CSV or JSONL file to score.")
@click.option("--train", "train_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Train the pipeline on this file (the same file as --test: 5-fold cross-validation).")
@click.option("--text", "text_cols", required=True, help="Text column(s), comma-separated; with two or more the first is the subject.")
@click.option("--label", "label_col", required=True, help="Label column.")
@click.option("--group", "group_col", help="Score per group (its macro-F1 is the mean over groups).")
@click.option("--train-per-group", is_flag=True, help="One model per group (needs --train and --group).")
@click.option("--map", "mapping", help="Label mapping, a=b,c=d (e.g. Blocker=critical,Major=high).")
@click.option("--target", type=click.Choice(["priority", "category"]), help="Which label the file holds (default: guessed).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object and nothing else.")
def eval_(test_path: Path, train_path: Path | None, text_cols: str, label_col: str, group_col: str | None,
          train_per_group: bool, mapping: str | None, target: str | None, as_json: bool) -> None:
    """Score the shipped triage model (or one trained with --train) on a labelled file."""
    from triage import evaluate

    try:
        result = evaluate.run(test_path, train_path, [c.strip() for c in text_cols.split(",") if c.strip()],
                              label_col, group_col, train_per_group, evaluate.parse_map(mapping), target)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    result["chart"] = str(evaluate.write_chart(result, get_settings().home_path / "reports"))
    if as_json:
        sys.stdout.write(json.dumps(evaluate.as_json(result)) + "\n")
    else:
        click.echo(evaluate.as_text(result))


eval_.name = "eval"
