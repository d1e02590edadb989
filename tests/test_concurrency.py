"""Two writers at once, each on its own connection, held together by a barrier inside
their transactions: the first two messages of one conversation open one ticket, and
two sweeps never do the same work twice (SQLite, then PostgreSQL)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta


from storage.models.base import utcnow
from storage.models.contacts import Identity
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket
from support.intake import ingest as ingesting
from support.intake import lookup
from support.intake.suggest import suggest_for
from support.oncall import sweep as sweeping
from tests.cast import bo_discord
from tests.rows import count, ticket

_WAIT = 3.0  # how long a writer inside its transaction waits for the other one


def _held_at(module, name: str, barrier: threading.Barrier, monkeypatch) -> None:
    """Make `module.name` wait at the barrier after it ran: both writers are then inside
    their transactions, past their reads, unless a lock kept the second one out."""
    original = getattr(module, name)

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        try:
            barrier.wait(_WAIT)
        except threading.BrokenBarrierError:
            pass  # the other writer is waiting for a lock: go on alone
        return result

    monkeypatch.setattr(module, name, held)


def _together(*calls) -> list:
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_the_first_two_messages_of_a_conversation_ingested_at_once_open_one_ticket(settings, monkeypatch):
    # Two people in one Discord thread (two authors: nothing else they write collides).
    first = bo_discord("1180000000000000001")
    second = replace(bo_discord("1180000000000000002", text="same here, on Linux"),
                     author_id="400000000000000043", author_handle="di", author_name="Di")
    suggestions = suggest_for([first, second])
    _held_at(ingesting, "_thread", threading.Barrier(2), monkeypatch)
    results = _together(*(lambda m=m: ingesting.ingest_batch([m], settings=settings, suggestions=suggestions)[0]
                          for m in (first, second)))
    assert count(settings, Ticket) == 1
    assert results[0].ticket_id == results[1].ticket_id


def test_a_new_author_writing_in_two_places_at_once_becomes_one_identity(settings, monkeypatch):
    """Two conversations (no lock in common) by one author the hub has not seen: both writers
    find no identity, both store one; the unique key keeps the first, and the second reads it back."""
    here = bo_discord("1180000000000000011", conversation_key="thread-1")
    there = bo_discord("1180000000000000012", conversation_key="thread-2", text="and the export hangs")
    suggestions = suggest_for([here, there])
    _held_at(lookup, "stored_for", threading.Barrier(2), monkeypatch)
    results = _together(*(lambda m=m: ingesting.ingest_batch([m], settings=settings, suggestions=suggestions)[0]
                          for m in (here, there)))
    assert results[0].ticket_id != results[1].ticket_id
    assert count(settings, Identity, Identity.external_user_id == here.author_id) == 1
    contacts = {ticket(settings, r.ticket_id).contact_id for r in results}
    assert len(contacts) == 1  # both tickets are the one customer's


def test_two_sweeps_at_once_rekick_a_lost_send_once(settings, monkeypatch):
    now = utcnow()
    from storage.db import transaction

    with transaction(settings.db_url) as session:
        session.add(Outbox(kind="reply", channel="log", queue="default", idempotency_key="reply:1:0:k", status="queued",
                           payload={"channel": "log", "kind": "reply", "idempotency_key": "reply:1:0:k", "text": "hi"},
                           created_at=now - timedelta(hours=1), updated_at=now - timedelta(hours=1)))
    _held_at(sweeping, "_give_up", threading.Barrier(2), monkeypatch)
    reports = _together(lambda: sweeping.sweep(settings), lambda: sweeping.sweep(settings))
    assert sum(r.rekicked_outbox for r in reports) == 1
