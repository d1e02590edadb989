"""`trkv import`: JSONL, mbox and Maildir into tickets through the bulk ingest path.

A line or message that cannot be parsed is quarantined with the reason, never
skipped in silence. Historical imports (the default) send nothing.
"""

from __future__ import annotations

import json
import logging
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import insert

from connectors.base import Inbound
from storage.db import transaction
from storage.models import Quarantine
from support import kick
from support.ingest import ingest_batch
from support.sanitize import sanitize
from trkv.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    tickets: int = 0
    quarantined: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        return (f"{self.read} read, {self.stored} stored in {self.tickets} new tickets, "
                f"{self.duplicates} already present, {self.quarantined} quarantined ({rate:,.0f} msg/s)")


@dataclass
class _Bad:
    channel: str
    reason: str
    payload: str


def import_path(path: Path, *, live: bool = False, batch_size: int = 1000, settings: Settings | None = None) -> ImportReport:
    settings = settings or get_settings()
    report = ImportReport()
    started = datetime.now()
    items = _read(path)
    total = _count(path)
    with click.progressbar(length=total, label=f"importing {path.name}", show_pos=True, show_eta=True) as bar:
        batch: list[Inbound] = []
        for item in items:
            report.read += 1
            bar.update(1)
            if isinstance(item, _Bad):
                _quarantine(settings, [item])
                report.quarantined += 1
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                _flush(batch, live, settings, report)
                batch = []
        _flush(batch, live, settings, report)
    report.seconds = (datetime.now() - started).total_seconds()
    return report


def _flush(batch: list[Inbound], live: bool, settings: Settings, report: ImportReport) -> None:
    if not batch:
        return
    results = ingest_batch(batch, live=live, settings=settings)
    report.duplicates += sum(r.duplicate for r in results)
    report.stored += sum(not r.duplicate for r in results)
    report.tickets += sum(r.created_ticket for r in results)
    if live:
        kick.dispatch([pair for r in results for pair in r.outbox])


def _read(path: Path) -> Iterator[Inbound | _Bad]:
    settings = get_settings()
    for item in _raw_items(path):
        if isinstance(item, _Bad):
            yield item
            continue
        try:
            yield sanitize(item, max_text_bytes=settings.max_text_bytes)
        except ValueError as exc:
            yield _Bad(item.channel, str(exc), json.dumps(item.to_dict(), default=str)[:100_000])


def _raw_items(path: Path) -> Iterator[Inbound | _Bad]:
    if path.is_dir():
        yield from _mails(mailbox.Maildir(path, factory=None, create=False))
    elif path.suffix in (".jsonl", ".json", ".ndjson"):
        yield from _jsonl(path)
    else:
        yield from _mails(mailbox.mbox(path, factory=None, create=False))


def _count(path: Path) -> int:
    if path.is_dir():
        return len(mailbox.Maildir(path, factory=None, create=False))
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    return len(mailbox.mbox(path, factory=None, create=False))


def _jsonl(path: Path) -> Iterator[Inbound | _Bad]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield inbound_from_json(json.loads(line.decode("utf-8")))
            except (ValueError, TypeError, KeyError) as exc:
                yield _Bad("import", f"line {number}: {exc}", line.decode("utf-8", "replace")[:100_000])


def inbound_from_json(data: dict) -> Inbound:
    """An `Inbound` from its own JSON form, or from the POST /api/inbound shape."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if isinstance(data.get("author"), dict):
        author = data["author"]
        data = {**data, "author_id": author.get("email") or author.get("handle"),
                "author_handle": author.get("handle", ""), "author_name": author.get("name", ""),
                "author_email": author.get("email"), "channel": data.get("channel", "api")}
    for name in ("channel", "external_id", "text"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise ValueError(f"{name} is missing or not a string")
    inbound = Inbound.from_dict(data)
    inbound.raw = inbound.raw if inbound.raw is not None else data
    return inbound


def _mails(box: mailbox.Mailbox) -> Iterator[Inbound | _Bad]:
    from connectors.mail import parse_email
    from support.channels.email import own_addresses

    settings = get_settings()
    ours = own_addresses(settings)
    for key in box.iterkeys():
        try:
            raw = box.get_bytes(key)
        except Exception as exc:  # an unreadable file in a Maildir
            yield _Bad("email", f"{key}: unreadable: {exc}", "")
            continue
        try:
            yield parse_email(raw, own_addresses=ours, attachment_max_bytes=settings.email_attachment_max_bytes)
        except ValueError as exc:
            yield _Bad("email", f"{key}: {exc}", raw.decode("utf-8", "replace")[:1_000_000])


def _quarantine(settings: Settings, bad: list[_Bad]) -> None:
    with transaction(settings.db_url) as session:
        session.execute(insert(Quarantine), [{"channel": b.channel, "reason": b.reason, "payload": b.payload} for b in bad])
    for b in bad:
        log.warning("quarantined: %s", b.reason)
