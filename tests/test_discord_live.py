"""Discord end to end: the unmodified discord.py against a local Discord server
(tests/discord_server.py), the hub's real database, intake, outbox and dispatch.

Bo is a customer on the TRKV Support server. The connector runs as `trkv connect
discord` runs it (receivers from the settings, the database sink); staged messages
and outbox rows are worked off by the same functions the Celery tasks call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from connectors.base import Outbound
from connectors.discord_live import NONCE_LENGTH
from connectors.runner import run_receivers
from storage.db import dispose_engines, session_factory
from storage.models.delivery import Outbox
from storage.models.intake import ConnectorState, InboundQueue
from storage.models.tickets import Message, MessageRevision, Ticket
from support.delivery.dispatch import dispatch
from support.delivery.senders import sender_for
from support.health import check
from support.intake import staging as intake
from support.intake.receive import DatabaseSink, receivers_for
from support.tickets.replies import reply
from tests.conftest import settings_for
from tests.discord_server import ADA, BO, BOT, GUILD_ID, OTHER_BOT, TOKEN, DiscordServer, channel_id


@pytest.fixture
def server() -> Iterator[DiscordServer]:
    with DiscordServer() as running:
        yield running


def hub_settings(monkeypatch, tmp_path, db_url, server, model_dir):
    return settings_for(
        monkeypatch, tmp_path, db_url, discord_token=TOKEN, discord_guild_id=GUILD_ID,
        discord_api_base=server.api_base, discord_gateway_url=server.gateway_url,
        discord_guild_ready_timeout="0.05", triage_model_dir=str(model_dir),
    )


@pytest.fixture
def hub(monkeypatch, tmp_path, sqlite_url, server, model_dir):
    yield hub_settings(monkeypatch, tmp_path, sqlite_url, server, model_dir)
    dispose_engines()


class Connector:
    """`trkv connect discord`, in a thread of this process."""

    def __init__(self, settings):
        self.settings = settings
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> Connector:
        receivers = receivers_for(self.settings, ["discord"])
        assert [r.name for r in receivers] == ["discord"]
        self.stop_event.clear()
        self.thread = threading.Thread(target=run_receivers,
                                       args=(receivers, DatabaseSink(self.settings), self.stop_event), daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def connector(hub, server) -> Iterator[Connector]:
    running = Connector(hub).start()
    server.wait(lambda: state(hub) == "ok", "the connector to connect")
    yield running
    running.stop()


def state(settings) -> str | None:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(ConnectorState.state).where(ConnectorState.name == "discord")).scalar()


def work(settings) -> None:
    """What the Celery worker does: ingest staged messages, then send queued outbox rows."""
    with session_factory(settings.db_url)() as session:
        staged = session.execute(select(InboundQueue.id).where(InboundQueue.status == "pending")).scalars().all()
    if staged:
        intake.process(list(staged), settings)
    with session_factory(settings.db_url)() as session:
        queued = session.execute(select(Outbox.id).where(Outbox.status == "queued").order_by(Outbox.id)).scalars().all()
    for outbox_id in queued:
        dispatch(outbox_id, settings)


def tickets(settings) -> list[Ticket]:
    with session_factory(settings.db_url)() as session:
        return list(session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def inbound_texts(settings, ticket_id: int) -> list[str]:
    with session_factory(settings.db_url)() as session:
        rows = session.execute(select(Message.text).where(Message.ticket_id == ticket_id, Message.direction == "in")
                               .order_by(Message.id))
        return list(rows.scalars())


def staged_count(settings) -> int:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(func.count()).select_from(InboundQueue)).scalar()


def until(server, settings, predicate, what):
    def step():
        work(settings)
        return predicate()

    return server.wait(step, what)


def bot_messages_in(server, channel: str) -> list[dict]:
    return [m for m in server.history(channel) if m["author"]["id"] == BOT["id"]]


# --- the customer's story ----------------------------------------------------------


@pytest.fixture
def story_hub(monkeypatch, tmp_path, db_url, server, model_dir):
    """The story runs on SQLite and on PostgreSQL."""
    settings = hub_settings(monkeypatch, tmp_path, db_url, server, model_dir)
    running = Connector(settings).start()
    server.wait(lambda: state(settings) == "ok", "the connector to connect")
    yield settings
    running.stop()
    dispose_engines()


def test_a_bug_report_becomes_a_ticket_answered_in_a_thread_the_bot_opens(story_hub, server):
    hub = story_hub
    post = server.post("bug-reports", BO, "The CSV export crashes with a 500 error since this morning")
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    assert ticket.channel == "discord" and ticket.category == "bug_report"
    assert ticket.conversation_key == post["id"]

    [ack] = until(server, hub, lambda: bot_messages_in(server, post["id"]), "the acknowledgement")
    assert f"TRKV-{ticket.id}" in ack["content"] and f"<@{BO['id']}>" in ack["content"]
    thread = server.channels[post["id"]]  # the thread the bot opened on Bo's message
    assert thread["parent_id"] == channel_id("bug-reports") and thread["owner_id"] == BOT["id"]

    reply(ticket.ref, "Thanks Bo, we reproduced it and a fix ships today.", key="form-1", settings=hub)
    until(server, hub, lambda: len(bot_messages_in(server, post["id"])) == 2, "the agent's reply")
    assert bot_messages_in(server, post["id"])[-1]["content"] == "Thanks Bo, we reproduced it and a fix ships today."

    server.post(post["id"], BO, "Great, it works again after the fix")
    until(server, hub, lambda: len(inbound_texts(hub, ticket.id)) == 2, "the follow-up on the ticket")
    assert len(tickets(hub)) == 1
    assert inbound_texts(hub, ticket.id)[-1] == "Great, it works again after the fix"


def test_a_direct_message_to_the_bot_works_the_same_way(connector, hub, server):
    dm = server.dm_channel(BO)
    server.post(dm, BO, "How do I reset my password? The link in the email expired")
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    assert ticket.conversation_key == dm
    until(server, hub, lambda: bot_messages_in(server, dm), "the acknowledgement in the DM")
    assert f"TRKV-{ticket.id}" in bot_messages_in(server, dm)[0]["content"]

    reply(ticket.ref, "I've sent you a fresh link, Bo.", settings=hub)
    until(server, hub, lambda: len(bot_messages_in(server, dm)) == 2, "the reply in the DM")
    server.post(dm, BO, "Got it, thanks!")
    until(server, hub, lambda: len(inbound_texts(hub, ticket.id)) == 2, "the follow-up")
    assert len(tickets(hub)) == 1


def test_a_forum_post_is_one_ticket_answered_inside_the_post(connector, hub, server):
    post = server.post_forum(BO, "Webhooks stopped firing", "Since the update no webhook reaches our endpoint")
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    assert ticket.subject == "Webhooks stopped firing" and ticket.conversation_key == post["id"]
    until(server, hub, lambda: bot_messages_in(server, post["id"]), "the acknowledgement in the post")
    server.post(post["id"], BO, "Here is the delivery log")
    until(server, hub, lambda: len(inbound_texts(hub, ticket.id)) == 2, "the follow-up")
    assert len(tickets(hub)) == 1


def test_announcements_other_bots_and_unaddressed_chat_are_not_tickets(connector, hub, server):
    server.post("announcements", ADA, "v2.3 is out")
    server.post("bug-reports", OTHER_BOT, "Build 512 failed")
    server.post("general", BO, "anyone watching the game tonight?")
    server.post("general", BO, f"<@{BOT['id']}> is the API down for everyone?")
    [ticket] = until(server, hub, lambda: tickets(hub), "the one ticket")
    assert inbound_texts(hub, ticket.id) == ["@TRKV Bot is the API down for everyone?"]
    # The messages after it were handled too (the cursor passed them), and still one ticket.
    last = server.post("support", BO, "and the dashboard is blank")
    until(server, hub, lambda: len(tickets(hub)) == 2, "the support ticket")
    assert tickets(hub)[-1].conversation_key == last["id"]


def test_an_edit_updates_the_stored_message_and_keeps_what_it_said(connector, hub, server):
    post = server.post("support", BO, "Login fails on Safari")
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    server.edit(post, "Login fails on Safari 17 and Firefox")
    until(server, hub, lambda: inbound_texts(hub, ticket.id) == ["Login fails on Safari 17 and Firefox"], "the edit")
    server.delete(post)

    def revisions():
        with session_factory(hub.db_url)() as session:  # a fresh snapshot each time
            return session.execute(select(MessageRevision.kind, MessageRevision.old_text, MessageRevision.status)
                                   .order_by(MessageRevision.id)).all()

    server.wait(lambda: len(revisions()) == 2, "the deletion")
    assert revisions() == [("edit", "Login fails on Safari", "applied"), ("delete", None, "applied")]
    assert inbound_texts(hub, ticket.id) == ["Login fails on Safari 17 and Firefox"]  # kept after deletion


def test_attachments_metadata_is_kept_on_the_message(connector, hub, server):
    attachment = {"id": "1400000000000000001", "filename": "trace.har", "size": 48213, "content_type": "application/json",
                  "url": "https://cdn.discordapp.com/attachments/1/2/trace.har", "proxy_url": "https://media/trace.har"}
    server.post("bug-reports", BO, "Network trace attached", attachments=[attachment])
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    with session_factory(hub.db_url)() as session:
        [stored] = session.execute(select(Message.attachments).where(Message.ticket_id == ticket.id,
                                                       Message.direction == "in")).scalars()
    assert stored == [{"filename": "trace.har", "content_type": "application/json", "size": 48213,
                       "url": "https://cdn.discordapp.com/attachments/1/2/trace.har"}]


# --- resume and backfill -------------------------------------------------------------


def test_messages_posted_while_the_connector_was_stopped_become_tickets_once_in_order(hub, server):
    first = Connector(hub).start()
    server.wait(lambda: state(hub) == "ok", "the first connection")
    first.stop()
    posted = [server.post("bug-reports", BO, f"crash report number {n}") for n in range(50)]

    second = Connector(hub).start()
    try:
        found = until(server, hub, lambda: len(tickets(hub)) == 50 and tickets(hub), "50 tickets")
        assert [t.conversation_key for t in found] == [p["id"] for p in posted]  # ticket order = posting order
        assert staged_count(hub) == 50  # each message submitted exactly once
        for post in (posted[0], posted[-1]):  # acknowledged in the thread on each message, not by DM
            assert bot_messages_in(server, post["id"])
    finally:
        second.stop()
    third = Connector(hub).start()  # a restart with nothing new submits nothing again
    try:
        server.wait(lambda: server.connected() == 1 and state(hub) == "ok", "the third connection")
        server.post("bug-reports", BO, "one more")
        until(server, hub, lambda: len(tickets(hub)) == 51, "the new message")
        assert staged_count(hub) == 51
    finally:
        third.stop()


@pytest.mark.parametrize(("window", "expected"), [("0", ["live"]), ("1", ["older", "old", "live"])])
def test_the_first_connection_starts_from_now_unless_a_backfill_window_is_set(
        monkeypatch, tmp_path, sqlite_url, server, model_dir, window, expected):
    server.post("bug-reports", BO, "older")
    server.post("support", BO, "old")
    monkeypatch.setenv("TRKV_DISCORD_BACKFILL_HOURS", window)
    hub = hub_settings(monkeypatch, tmp_path, sqlite_url, server, model_dir)
    running = Connector(hub).start()
    try:
        server.wait(lambda: state(hub) == "ok", "the first connection")
        server.post("docs", BO, "live")
        until(server, hub, lambda: len(tickets(hub)) == len(expected), "the tickets")
        assert [inbound_texts(hub, t.id)[0] for t in tickets(hub)] == expected
    finally:
        running.stop()
        dispose_engines()


def test_a_gateway_drop_with_resume_refused_loses_nothing(connector, hub, server):
    posted = [server.post("support", BO, f"question {n}") for n in range(25)]
    server.wait(lambda: staged_count(hub) >= 10, "the stream to be under way")
    server.drop(refuse_resume=True)
    posted += [server.post("support", BO, f"question {n}") for n in range(25, 50)]
    found = until(server, hub, lambda: len(tickets(hub)) == 50 and tickets(hub), "50 tickets")
    assert [t.conversation_key for t in found] == [p["id"] for p in posted]
    assert staged_count(hub) == 50
    assert False in server.resumes and server.identifies == 2


def test_a_resumed_session_replays_what_it_missed_without_duplicates(connector, hub, server):
    posted = [server.post("support", BO, f"question {n}") for n in range(10)]
    server.drop(refuse_resume=False)
    posted += [server.post("support", BO, f"question {n}") for n in range(10, 20)]
    found = until(server, hub, lambda: len(tickets(hub)) == 20 and tickets(hub), "20 tickets")
    assert [t.conversation_key for t in found] == [p["id"] for p in posted]
    server.wait(lambda: True in server.resumes, "the resume")
    assert staged_count(hub) == 20 and server.identifies == 1


def test_a_disconnect_shows_in_healthz_until_the_gateway_is_back(connector, hub, server):
    assert check(hub)[1]["connectors"]["discord"]["state"] == "ok"
    server.gateway_down = True
    server.drop(refuse_resume=True)
    server.wait(lambda: check(hub)[1]["connectors"]["discord"]["state"] == "degraded", "the degraded state")
    assert "disconnected" in check(hub)[1]["connectors"]["discord"]["detail"]
    server.gateway_down = False
    server.wait(lambda: check(hub)[1]["connectors"]["discord"]["state"] == "ok", "the reconnection")


# --- sending -----------------------------------------------------------------------------


def test_a_resend_after_a_crash_posts_once(connector, hub, server):
    post = server.post("support", BO, "Where are the API docs for webhooks?")
    [ticket] = until(server, hub, lambda: tickets(hub), "the ticket")
    until(server, hub, lambda: bot_messages_in(server, post["id"]), "the acknowledgement")
    with session_factory(hub.db_url)() as session, session.begin():
        row = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalar_one()
        row.status = "queued"  # as if the worker died after sending, before recording it
    work(hub)
    assert len(bot_messages_in(server, post["id"])) == 1
    nonces = [r["json"]["nonce"] for r in server.requests if r["path"].endswith("/messages") and r["method"] == "POST"]
    assert len(nonces) == 2 and len(set(nonces)) == 1 and len(nonces[0]) <= NONCE_LENGTH


def test_customer_text_echoed_back_pings_nobody(hub, server):
    dm = server.dm_channel(BO)
    sender = sender_for("discord", hub)
    sender.send(Outbound(channel="discord", kind="reply", idempotency_key="reply:x", to=BO["id"],
                         text="You wrote: @everyone the site is down @here"))
    [sent] = bot_messages_in(server, dm)
    assert "@everyone" not in sent["content"] and "@here" not in sent["content"]
    [request] = [r for r in server.requests if r["path"] == f"/channels/{dm}/messages"]
    assert request["json"]["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(("broken", "reason"), [("forbidden", "missing access"), ("unknown", "unknown channel")])
def test_a_channel_the_bot_cannot_post_in_fails_the_row_with_the_reason(hub, server, broken, reason):
    from storage.db import transaction

    target = "1999999999999999999" if broken == "unknown" else channel_id("support")
    server.forbidden.add(channel_id("support"))
    outbound = Outbound(channel="discord", kind="reply", idempotency_key=f"reply:{broken}", text="hello",
                        conversation_key=target)
    with transaction(hub.db_url) as session:
        row = Outbox(kind="reply", channel="discord", idempotency_key=outbound.idempotency_key,
                     payload=outbound.__dict__.copy(), status="queued")
        session.add(row)
        session.flush()
        outbox_id = row.id
    assert dispatch(outbox_id, hub).status == "failed"
    with session_factory(hub.db_url)() as session:
        row = session.get(Outbox, outbox_id)
        assert row.status == "failed" and reason in row.last_error and row.attempts == 1


def test_status_updates_go_to_announcements_and_pages_to_a_users_dms(hub, server):
    sender = sender_for("discord", hub)
    sender.post_status("[Status] TRKV Service Update\nCurrent Status: Investigating", key="status:inc-1")
    assert [m["content"] for m in bot_messages_in(server, "announcements")] == [
        "[Status] TRKV Service Update\nCurrent Status: Investigating"]
    page = Outbound(channel="discord", kind="page", idempotency_key="page:7", to=ADA["id"], text="[CRITICAL] TRKV-7")
    sender.send(page)
    sender.send(page)  # a re-page with the same key is one message
    assert [m["content"] for m in bot_messages_in(server, server.dm_channel(ADA))] == ["[CRITICAL] TRKV-7"]
