"""Story 1: a Discord ticket is resolved; after the delay it gets one survey with five
buttons, and a click (a gateway interaction sent by the local Discord server) records
a 5. A press by someone else is refused and records nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import session_factory
from storage.models.base import utcnow
from storage.models.feedback import Survey
from support.oncall.sweep import sweep
from support.tickets import actions as ticket_actions
from support.tickets.replies import reply
from tests.discord_server import ADA, BO
from tests.test_discord_live import Connector, hub_settings, server, state, tickets, until, work  # noqa: F401


def scores(settings) -> list[tuple]:
    with session_factory(settings.db_url)() as session:
        return list(session.execute(select(Survey.score, Survey.answered_via)).all())


def test_a_resolved_discord_ticket_gets_one_survey_with_buttons_and_a_click_records_a_5(
        monkeypatch, tmp_path, db_url, server, model_dir):
    settings = hub_settings(monkeypatch, tmp_path, db_url, server, model_dir)
    running = Connector(settings).start()
    try:
        server.wait(lambda: state(settings) == "ok", "the connector to connect")
        server.post("support", BO, "the timeline view crashes when I zoom in")
        ticket = until(server, settings, lambda: tickets(settings), "the ticket")[0]
        reply(ticket.ref, "Fixed in 2.4: update and it works.", settings=settings)
        ticket_actions.set_status(ticket.ref, "resolved", user_id=None, settings=settings)
        work(settings)
        sweep(settings, now=utcnow() + timedelta(minutes=61))
        sweep(settings, now=utcnow() + timedelta(minutes=90))  # a second sweep adds nothing
        work(settings)
        surveys = [m for m in server.sent_by_bot() if m.get("components")]
        assert len(surveys) == 1
        buttons = surveys[0]["components"][0]["components"]
        assert [b["label"][0] for b in buttons] == ["1", "2", "3", "4", "5"]
        five = buttons[4]["custom_id"]
        assert five.startswith("csat:") and five.endswith(":5")

        stranger = server.press(surveys[0], ADA, five)
        server.wait(lambda: stranger in server.callbacks, "the answer to a stranger's press")
        assert "Not recorded" in server.callbacks[stranger]["data"]["content"]
        assert scores(settings) == [(None, None)]

        press = server.press(surveys[0], BO, five)
        server.wait(lambda: press in server.callbacks, "the answer to Bo's press")
        assert server.callbacks[press]["data"]["flags"] & 64  # only Bo sees the thank-you
        assert "recorded 5" in server.callbacks[press]["data"]["content"]
        assert scores(settings) == [(5, "discord")]
    finally:
        running.stop()
