"""The X survey: a DM when the customer's DMs are open, else (X answers the DM with its
403) the public reply with the link, exactly once; the outbox row says which went out.
The unmodified tweepy client posts to the local X API server (tests/x_server.py).

Cy tweets at @trkvbot, gets an acknowledgement and an agent's reply, the ticket is
resolved, and the sweep an hour later asks for a score.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connectors.base import Outbound
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.intake import ConnectorState
from support.channels import x as x_wiring
from support.delivery.dispatch import dispatch
from support.intake.receive import DatabaseSink
from support.oncall.sweep import sweep
from support.tickets import actions as ticket_actions
from support.tickets.queries import get_ticket
from support.tickets.replies import reply
from tests.test_x_channel import (  # noqa: F401  (fixtures)
    clock,
    dispatch_queued,
    ingest_pending,
    receiver_for,
    server,
    x_settings,
    x_sqlite_settings,
)


def resolved_tweet(settings, server, clock) -> tuple[dict, dict, str]:
    """Cy's mention becomes a ticket, acknowledged and answered on X, then resolved; the
    sweep queues the survey. Returns (Cy, the mention, the ticket's ref)."""
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot my CSV export times out")
    receiver_for(settings, clock).poll_once(DatabaseSink(settings))
    ingest_pending(settings)
    dispatch_queued(settings)  # the acknowledgement
    with session_factory(settings.db_url)() as session:
        ref = f"TRKV-{session.execute(select(Outbox.ticket_id)).scalars().first()}"
    reply(ref, "Fixed in 2.4: please update and try again.", key=f"r-{ref}", settings=settings)
    dispatch_queued(settings)
    ticket_actions.set_status(ref, "resolved", user_id=None, settings=settings)
    sweep(settings, now=utcnow() + timedelta(minutes=61))
    return cy, mention, ref


def survey_row(settings) -> Outbox:
    with session_factory(settings.db_url)() as session:
        row = session.execute(select(Outbox).where(Outbox.kind == "survey")).scalar_one()
        session.expunge(row)
        return row


def surveys_in_public(server, mention) -> list[dict]:
    return [t for t in server.replies_to(mention["id"]) if "/csat/" in t["text"]]


def test_with_open_dms_the_survey_is_a_dm_and_nothing_is_posted_publicly(x_settings, server, clock):
    cy, mention, ref = resolved_tweet(x_settings, server, clock)
    assert dispatch(survey_row(x_settings).id, x_settings).status == "sent"

    (dm,) = [d for d in server.dms if "/csat/" in d["text"]]
    assert dm["to"] == cy["id"] and ref in dm["text"]
    assert surveys_in_public(server, mention) == []
    row = survey_row(x_settings)
    assert (row.status, row.sent_as, row.external_id) == ("sent", "dm", dm["id"])
    outgoing = [m for m in get_ticket(ref, x_settings)["messages"] if m["direction"] == "out"]
    assert outgoing[-1]["text"] == dm["text"]


def test_with_closed_dms_x_refuses_the_dm_and_the_survey_is_one_public_reply(x_settings, server, clock):
    cy, mention, ref = resolved_tweet(x_settings, server, clock)
    server.close_dms(cy)
    assert dispatch(survey_row(x_settings).id, x_settings).status == "sent"

    assert server.count("dm", 403) == 1 and not [d for d in server.dms if "/csat/" in d["text"]]
    (public,) = surveys_in_public(server, mention)
    assert public["text"].startswith("@cy ") and ref in public["text"] and len(public["text"]) <= 280
    row = survey_row(x_settings)
    assert (row.status, row.sent_as, row.external_id) == ("sent", "reply", public["id"])
    outgoing = [m for m in get_ticket(ref, x_settings)["messages"] if m["direction"] == "out"]
    assert outgoing[-1]["text"] == public["text"]
    with session_factory(x_settings.db_url)() as session:  # the refused DM is not the account's trouble
        states = dict(session.execute(select(ConnectorState.name, ConnectorState.state)).all())
    assert states.get(x_wiring.SENDER_HEALTH, "ok") == "ok"


def send_survey_then_crash(settings) -> int:
    """A worker claims the survey row and sends it, then dies before recording the send;
    the sweep hands the row back after the lease."""
    with transaction(settings.db_url) as session:
        row = session.execute(select(Outbox).where(Outbox.kind == "survey")).scalar_one()
        row.status, row.attempts = "sending", 1
        outbox_id, payload = row.id, row.payload
    x_wiring.sender(settings).send(Outbound(**payload))
    with transaction(settings.db_url) as session:
        session.get(Outbox, outbox_id).status = "queued"
    return outbox_id


def test_a_public_survey_resent_after_a_crash_is_found_not_posted_again(x_sqlite_settings, server, clock):
    cy, mention, _ref = resolved_tweet(x_sqlite_settings, server, clock)
    server.close_dms(cy)
    outbox_id = send_survey_then_crash(x_sqlite_settings)
    posts = server.count("post")

    assert dispatch(outbox_id, x_sqlite_settings).status == "sent"

    (public,) = surveys_in_public(server, mention)
    assert server.count("post") == posts and server.count("dm", 403) == 1  # the resend neither posts nor DMs
    row = survey_row(x_sqlite_settings)
    assert (row.sent_as, row.external_id) == ("reply", public["id"])


def test_a_dm_survey_resent_after_a_crash_is_found_not_sent_again(x_sqlite_settings, server, clock):
    cy, mention, _ref = resolved_tweet(x_sqlite_settings, server, clock)
    outbox_id = send_survey_then_crash(x_sqlite_settings)

    assert dispatch(outbox_id, x_sqlite_settings).status == "sent"

    surveys = [d for d in server.dms if "/csat/" in d["text"]]
    assert len(surveys) == 1 and server.count("dm") == 1 and surveys_in_public(server, mention) == []
    row = survey_row(x_sqlite_settings)
    assert (row.sent_as, row.external_id) == ("dm", surveys[0]["id"])
