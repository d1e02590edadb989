"""Edits and deletions of Discord messages against the stored messages (support.discord_events)."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session_factory
from storage.models.tickets import Message, MessageRevision
from support.channels.discord import receivers
from support.intake import staging as intake
from support.intake.discord_events import apply_changes
from support.intake.receive import DatabaseSink
from support.tickets.queries import TicketFilters, list_tickets
from tests.cast import bo_discord
from trkv.settings import Settings


def edit(external_id: str, text: str) -> dict:
    return {"kind": "edit", "external_id": external_id, "channel_id": "7", "text": text,
            "at": "2026-11-27T10:00:00+00:00", "raw": {"id": external_id, "content": text}}


def revisions(settings) -> list[tuple]:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(MessageRevision.kind, MessageRevision.old_text, MessageRevision.new_text,
                                      MessageRevision.status).order_by(MessageRevision.id)).all()


def stored_text(settings, external_id: str) -> str:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(Message.text).where(Message.external_id == external_id)).scalar_one()


def test_an_edit_that_arrives_before_its_message_is_ingested_waits_and_is_applied_after(settings):
    staged = intake.submit([bo_discord(external_id="501", text="the timeline crashes")], settings=settings)
    assert apply_changes([edit("501", "the timeline crashes when I zoom out")], settings) == 1  # still pending
    intake.process(staged, settings)
    assert apply_changes([], settings) == 0
    assert stored_text(settings, "501") == "the timeline crashes when I zoom out"
    assert revisions(settings) == [("edit", "the timeline crashes", "the timeline crashes when I zoom out", "applied")]
    assert len(list_tickets(TicketFilters(q="zoom"), settings=settings).items) == 1  # the edit's words are searchable


def test_two_edits_keep_every_earlier_text(settings):
    intake.process(intake.submit([bo_discord(external_id="502", text="v1")], settings=settings), settings)
    apply_changes([edit("502", "v2")], settings)
    apply_changes([edit("502", "v3")], settings)
    assert stored_text(settings, "502") == "v3"
    assert [(r[1], r[2]) for r in revisions(settings)] == [("v1", "v2"), ("v2", "v3")]


def test_a_change_to_a_message_the_hub_never_stored_is_kept_as_an_orphan(settings):
    assert apply_changes([{"kind": "delete", "external_id": "999", "channel_id": "7", "raw": {}}], settings) == 0
    assert revisions(settings) == [("delete", None, None, "orphan")]


def test_the_channel_mapping_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRKV_DISCORD_TOKEN", "t")
    monkeypatch.setenv("TRKV_DISCORD_CHANNELS", '{"#help-desk": "support_question", "Announcements": "ignore"}')
    [receiver] = receivers(Settings(), DatabaseSink(Settings()))
    assert receiver.routes == {"help desk": "support_question", "announcements": "ignore"}


def test_without_a_token_the_discord_channel_is_not_started(monkeypatch):
    monkeypatch.delenv("TRKV_DISCORD_TOKEN", raising=False)
    assert receivers(Settings(), DatabaseSink(Settings())) == []
