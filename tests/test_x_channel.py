"""The X channel end to end: the unmodified tweepy client polls and posts against a local
server that speaks the X API v2 (tests/x_server.py), into a real database.

Cy tweets at @trkvbot; Dee and Eli retweet; the server counts every request per
endpoint against its 15-minute windows, so "never over budget" is something it sees.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.base import ConnectorError, Outbound
from connectors.runner import run_receivers
from connectors.x.budget import RateBudget
from connectors.x.sender import XSender
from inbox.app import create_app
from storage.db import session_factory, transaction
from storage.models.delivery import Outbox
from storage.models.intake import ConnectorCursor, InboundQueue
from storage.models.tickets import Message, Ticket
from support.channels import x as x_wiring
from support.delivery.acks import X_LIMIT, x_length
from support.delivery.dispatch import dispatch
from support.intake import staging as intake
from support.intake.receive import DatabaseSink
from support.tickets import replies
from tests.conftest import settings_for
from tests.rows import count
from tests.tokens import token_headers
from tests.x_server import XServer, recorded


class Clock:
    """Time for the budget and the server alike; sleeping moves it forward at once."""

    def __init__(self, start: float):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.slept.append(seconds)
        self.now += seconds
        return False  # never asked to stop


@pytest.fixture
def clock():
    import time

    return Clock(time.time())


@pytest.fixture
def server(clock):
    with XServer(clock=clock) as srv:
        yield srv


def live_x(monkeypatch, tmp_path, db_url, server, model_dir):
    return settings_for(
        monkeypatch, tmp_path, db_url, x_api_base=server.base_url, x_bearer_token="app-token",
        x_consumer_key="ck", x_consumer_secret="cs", x_access_token="at", x_access_token_secret="ats",
        triage_model_dir=str(model_dir),
    )


@pytest.fixture
def x_settings(monkeypatch, tmp_path, db_url, server, model_dir):
    """Settings for a live X channel pointed at the local server (SQLite, then PostgreSQL)."""
    from storage.db import dispose_engines

    yield live_x(monkeypatch, tmp_path, db_url, server, model_dir)
    dispose_engines()


@pytest.fixture
def x_sqlite_settings(monkeypatch, tmp_path, sqlite_url, server, model_dir):
    from storage.db import dispose_engines

    yield live_x(monkeypatch, tmp_path, sqlite_url, server, model_dir)
    dispose_engines()


def receiver_for(settings, clock, **overrides):
    (receiver,) = x_wiring.receivers(settings)
    receiver.budget.clock = clock
    receiver.sleep = clock.sleep
    for name, value in overrides.items():
        setattr(receiver, name, value)
    return receiver


def ingest_pending(settings) -> None:
    """What an ingest worker does with the staged rows."""
    with session_factory(settings.db_url)() as session:
        staged = session.execute(select(InboundQueue.id).where(InboundQueue.status == "pending")).scalars().all()
    if staged:
        intake.process(list(staged), settings)


def dispatch_queued(settings) -> int:
    with session_factory(settings.db_url)() as session:
        queued = session.execute(select(Outbox.id).where(Outbox.status == "queued").order_by(Outbox.id)).scalars().all()
    for outbox_id in queued:
        dispatch(outbox_id, settings)
    return len(queued)




def send_then_crash(settings, clock) -> tuple[int, dict]:
    """Poll, ingest, and send the one acknowledgement as a worker does, dying before it
    records the send; the sweep hands the row back. Returns the row's id and payload."""
    receiver_for(settings, clock).poll_once(DatabaseSink(settings))
    ingest_pending(settings)
    with transaction(settings.db_url) as session:
        row = session.execute(select(Outbox)).scalar_one()
        row.status, row.attempts = "sending", 1  # claimed ...
        outbox_id, payload = row.id, row.payload
    x_wiring.sender(settings).send(Outbound(**payload))  # ... sent ... and then the crash
    with transaction(settings.db_url) as session:
        session.get(Outbox, outbox_id).status = "queued"  # the sweep, after the lease
    return outbox_id, payload


def poll_and_handle(receiver, settings) -> None:
    receiver.poll_once(DatabaseSink(settings))
    ingest_pending(settings)
    dispatch_queued(settings)


def test_a_mention_becomes_a_ticket_acknowledged_once_and_the_conversation_stays_in_it(x_settings, server, clock):
    """Mention → ticket → one reply-tweet acknowledgement within the 2 h target; Cy's answer
    to it joins the ticket; an agent's reply goes out as a reply tweet in the same conversation."""
    cy = server.user("cy", "Cy Twain")
    mention = server.tweet(cy, "@trkvbot exporting my projects to CSV fails with error 500")
    receiver = receiver_for(x_settings, clock)

    poll_and_handle(receiver, x_settings)

    with session_factory(x_settings.db_url)() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert ticket.channel == "x" and ticket.conversation_key == mention["id"]
        assert ticket.first_response_due_at - ticket.created_at <= timedelta(hours=2)
        ack_row = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalar_one()
        assert ack_row.status == "sent" and ack_row.sent_at - ticket.created_at < timedelta(hours=2)
    (ack,) = server.replies_to(mention["id"])
    assert ack["author_id"] == server.bot["id"] and ack["text"].startswith("@cy ")
    assert f"TRKV-{ticket.id}" in ack["text"]
    assert x_length(ack["text"]) <= X_LIMIT
    assert ack_row.external_id == ack["id"]

    answer = server.tweet(cy, "@trkvbot it happens with every project", reply_to=ack["id"])
    poll_and_handle(receiver, x_settings)
    assert count(x_settings, Ticket) == 1
    assert count(x_settings, Message, Message.ticket_id == ticket.id, Message.direction == "in") == 2
    assert count(x_settings, Outbox, Outbox.kind == "ack") == 1  # the answer is not acknowledged again

    replies.reply(ticket.ref, "Thanks Cy, a fix is out: please try the export again.", settings=x_settings)
    dispatch_queued(x_settings)
    (reply,) = server.replies_to(answer["id"])
    assert reply["conversation_id"] == mention["id"]
    assert reply["text"] == "@cy Thanks Cy, a fix is out: please try the export again."
    assert count(x_settings, Message, Message.ticket_id == ticket.id, Message.direction == "out") == 2


def test_a_tweet_found_by_mentions_and_search_and_its_retweets_is_stored_once(x_sqlite_settings, server, clock):
    cy, dee, eli = server.user("cy"), server.user("dee"), server.user("eli")
    mention = server.tweet(cy, "@trkvbot trkv sync has been stuck for an hour")
    server.tweet(dee, "", retweet_of=mention["id"])
    server.tweet(eli, "", retweet_of=mention["id"])
    receiver = receiver_for(x_sqlite_settings, clock)

    poll_and_handle(receiver, x_sqlite_settings)

    assert server.count("mentions") == 1 and server.count("search") == 1  # both queries asked
    assert count(x_sqlite_settings, Message) == 2  # Cy's tweet and our acknowledgement
    assert count(x_sqlite_settings, Message, Message.direction == "in", Message.external_id == mention["id"]) == 1
    assert count(x_sqlite_settings, Ticket) == 1
    assert len(server.replies_to(mention["id"])) == 1


def test_a_brand_mention_not_addressed_to_us_is_a_ticket_without_an_automatic_reply(x_sqlite_settings, server, clock):
    dee = server.user("dee")
    brand = server.tweet(dee, "has anyone tried trkv for time tracking?")
    receiver = receiver_for(x_sqlite_settings, clock)

    poll_and_handle(receiver, x_sqlite_settings)

    assert count(x_sqlite_settings, Ticket) == 1
    assert count(x_sqlite_settings, Outbox) == 0
    assert server.replies_to(brand["id"]) == []


def test_our_own_tweets_found_by_the_search_do_not_become_tickets(x_sqlite_settings, server, clock):
    server.tweet(server.bot, "trkv 4.2 is out: dark mode and faster sync")
    receiver = receiver_for(x_sqlite_settings, clock)
    poll_and_handle(receiver, x_sqlite_settings)
    assert count(x_sqlite_settings, InboundQueue) == 0


def test_a_429_storm_and_a_503_burst_lose_nothing_duplicate_nothing_and_stay_in_budget(
    x_sqlite_settings, server, clock
):
    """Server limits of 4 requests per window; 429s with and without rate-limit headers,
    503s and dropped connections on both endpoints; 25 mentions over three pages."""
    server.limits.update(mentions=4, search=4)
    cy = server.user("cy")
    tweets = [server.tweet(cy, f"@trkvbot trkv export fails with error 500 on project {n}") for n in range(25)]
    server.fail("users", "503", "drop")
    server.fail("mentions", "429", "429-bare", "503", "drop", "429-bare", "503")
    server.fail("search", "429-bare", "429-bare", "429", "503")
    receiver = receiver_for(x_sqlite_settings, clock, page_size=10)

    for _ in range(4):
        poll_and_handle(receiver, x_sqlite_settings)

    assert not server.failures["mentions"] and not server.failures["search"]  # every failure was met
    assert server.count("mentions", 429) == 3 and server.count("mentions", 503) == 2
    assert server.over_budget == 0
    assert count(x_sqlite_settings, Message, Message.direction == "in") == 25
    assert count(x_sqlite_settings, Ticket) == 25
    assert count(x_sqlite_settings, Outbox, Outbox.kind == "ack", Outbox.status == "sent") == 25
    assert all(len(server.replies_to(t["id"])) == 1 for t in tweets)
    # a 429 without headers backs off exponentially: the waits between the bare 429s grow
    search_times = [r["at"] for r in server.requests if r["endpoint"] == "search"]
    assert search_times[2] - search_times[1] > search_times[1] - search_times[0] > 0


def test_polls_never_exceed_the_budget_the_server_announces(x_sqlite_settings, server, clock):
    """Settings allow 450 per window; the server says 3: its headers win, and the derived
    poll interval spreads the 3 over the window."""
    server.limits.update(mentions=3, search=3)
    cy = server.user("cy")
    receiver = receiver_for(x_sqlite_settings, clock)

    for n in range(12):
        server.tweet(cy, f"@trkvbot question {n}")
        receiver.poll_once(DatabaseSink(x_sqlite_settings))
        clock.sleep(receiver.interval())

    assert server.over_budget == 0
    assert server.count("mentions") == 12
    times = [r["at"] for r in server.requests if r["endpoint"] == "mentions"]
    assert all(later - earlier >= 900 for earlier, later in zip(times, times[3:]))  # never 4 in a window
    assert count(x_sqlite_settings, InboundQueue) == 12


def test_a_restart_resumes_from_since_id_without_fetching_again(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    first = [server.tweet(cy, f"@trkvbot first batch {n}") for n in range(3)]
    receiver_for(x_sqlite_settings, clock).poll_once(DatabaseSink(x_sqlite_settings))
    assert count(x_sqlite_settings, ConnectorCursor, ConnectorCursor.name == "x:mentions:since_id") == 1

    later = server.tweet(cy, "@trkvbot after the restart")
    restarted = receiver_for(x_sqlite_settings, clock)  # a new process: nothing in memory
    restarted.poll_once(DatabaseSink(x_sqlite_settings))

    last_mentions_request = [r for r in server.requests if r["endpoint"] == "mentions"][-1]
    assert last_mentions_request["query"]["since_id"] == first[-1]["id"]
    with session_factory(x_sqlite_settings.db_url)() as session:
        staged = session.execute(select(InboundQueue.external_id).order_by(InboundQueue.id)).scalars().all()
    assert staged == [t["id"] for t in first] + [later["id"]]


def test_the_cursor_does_not_move_when_the_sink_fails(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    server.tweet(cy, "@trkvbot hello")

    class BrokenSink(DatabaseSink):
        def submit(self, inbound):
            raise RuntimeError("database went away")

        def submit_many(self, inbounds):
            raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        receiver_for(x_sqlite_settings, clock).poll_once(BrokenSink(x_sqlite_settings))
    assert DatabaseSink(x_sqlite_settings).load_cursor("x:mentions:since_id") is None


def test_a_recorded_mentions_page_is_stored_tweet_by_tweet(x_sqlite_settings, server, clock):
    """The real body X sent for a mentions timeline (no expansions) goes through as it is."""
    body = recorded("test_client_get_users_mentions")
    server.script("mentions", body)
    server.script("mentions", {"meta": {"result_count": 0}})  # its next_token leads to the end
    receiver_for(x_sqlite_settings, clock, search_query="").poll_once(DatabaseSink(x_sqlite_settings))
    ingest_pending(x_sqlite_settings)
    ids = {t["id"] for t in body["data"]}
    with session_factory(x_sqlite_settings.db_url)() as session:
        stored = session.execute(select(Message.external_id, Message.problems)).all()
    assert {row.external_id for row in stored} == ids
    assert all("tweet has no author_id" in row.problems for row in stored), stored
    assert DatabaseSink(x_sqlite_settings).load_cursor("x:mentions:since_id") == max(ids, key=int)


def test_after_an_outage_mentions_past_the_timelines_800_are_recovered_from_the_search(
    x_sqlite_settings, server, clock
):
    cy = server.user("cy")
    seen = server.tweet(cy, "@trkvbot before the outage")
    DatabaseSink(x_sqlite_settings).save_cursor("x:mentions:since_id", seen["id"])
    for n in range(1000):  # one every 3 s while the hub was down
        clock.now += 3
        server.tweet(cy, f"@trkvbot during the outage {n}")
    receiver = receiver_for(x_sqlite_settings, clock, search_query="")

    receiver.poll_once(DatabaseSink(x_sqlite_settings))

    with session_factory(x_sqlite_settings.db_url)() as session:
        staged = session.execute(select(InboundQueue.external_id)).scalars().all()
    assert len(staged) == len(set(staged)) == 1000  # 800 from the timeline, 200 from the search
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        state = operator.get("/healthz").json()["connectors"]["x"]
    assert state["state"] == "degraded" and "200 older ones" in state["detail"] and "recovered" in state["detail"]


def test_after_an_outage_longer_than_the_search_reaches_it_says_mentions_may_be_missing(
    x_sqlite_settings, server, clock
):
    cy = server.user("cy")
    seen = server.tweet(cy, "@trkvbot before the outage")
    DatabaseSink(x_sqlite_settings).save_cursor("x:mentions:since_id", seen["id"])
    clock.now += 8 * 86400  # eight days down
    for n in range(850):
        clock.now += 1
        server.tweet(cy, f"@trkvbot during the outage {n}")
    receiver = receiver_for(x_sqlite_settings, clock, search_query="")

    receiver.poll_once(DatabaseSink(x_sqlite_settings))

    assert count(x_sqlite_settings, InboundQueue) == 800
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        state = operator.get("/healthz").json()["connectors"]["x"]
    assert state["state"] == "degraded" and "may be missing" in state["detail"]


def test_exactly_800_new_mentions_are_not_reported_as_a_gap(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    seen = server.tweet(cy, "@trkvbot before")
    DatabaseSink(x_sqlite_settings).save_cursor("x:mentions:since_id", seen["id"])
    for n in range(800):
        server.tweet(cy, f"@trkvbot busy day {n}")
    receiver_for(x_sqlite_settings, clock, search_query="").poll_once(DatabaseSink(x_sqlite_settings))
    assert count(x_sqlite_settings, InboundQueue) == 800
    assert server.count("search") == 1  # it looked
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        assert operator.get("/healthz").json()["connectors"]["x"]["state"] == "ok"


def test_refused_credentials_stop_the_receiver_and_show_in_healthz(x_sqlite_settings, server, clock):
    server.fail("users", "401")
    receiver = receiver_for(x_sqlite_settings, clock)
    run_receivers([receiver], DatabaseSink(x_sqlite_settings), threading.Event())  # returns: permanent
    assert server.count("users") == 1  # not retried
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        state = operator.get("/healthz").json()["connectors"]["x"]
    assert state["state"] == "down" and "401" in state["detail"]


def test_a_suspended_account_cannot_post_and_the_row_fails_with_the_reason(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    server.tweet(cy, "@trkvbot login is broken, I get error 403 since this morning")
    receiver = receiver_for(x_sqlite_settings, clock)
    receiver.poll_once(DatabaseSink(x_sqlite_settings))
    ingest_pending(x_sqlite_settings)
    server.fail("post", "403")
    dispatch_queued(x_sqlite_settings)
    with session_factory(x_sqlite_settings.db_url)() as session:
        row = session.execute(select(Outbox)).scalar_one()
    assert row.status == "failed" and "403" in row.last_error
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        assert operator.get("/healthz").json()["connectors"]["x-sender"]["state"] == "degraded"


def test_an_acknowledgement_resent_after_a_crash_is_not_posted_twice(x_settings, server, clock):
    """The first attempt reached X but the worker died before recording it; the sweep hands
    the row back and the resend finds our tweet instead of posting another."""
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot my invoices page is blank")
    outbox_id, _payload = send_then_crash(x_settings, clock)

    assert dispatch(outbox_id, x_settings).status == "sent"

    (ack,) = server.replies_to(mention["id"])
    with session_factory(x_settings.db_url)() as session:
        assert session.get(Outbox, outbox_id).external_id == ack["id"]
    assert server.count("post") == 1


def test_x_refusing_duplicate_text_counts_as_already_sent(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot my CSV exports fail with error 500")
    receiver_for(x_sqlite_settings, clock).poll_once(DatabaseSink(x_sqlite_settings))
    ingest_pending(x_sqlite_settings)
    with session_factory(x_sqlite_settings.db_url)() as session:
        payload = session.execute(select(Outbox.payload)).scalar_one()
    earlier = server.tweet(server.bot, payload["text"], reply_to=mention["id"])  # posted by an earlier life

    dispatch_queued(x_sqlite_settings)

    assert server.count("post", 403) == 1
    assert [t["id"] for t in server.replies_to(mention["id"])] == [earlier["id"]]
    with session_factory(x_sqlite_settings.db_url)() as session:
        assert session.execute(select(Outbox.status, Outbox.external_id)).one() == ("sent", earlier["id"])


def test_an_agent_reply_is_measured_as_x_counts_and_a_too_long_one_is_refused_not_cut(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot how do I set up the Jira integration?")
    poll_and_handle(receiver_for(x_sqlite_settings, clock), x_sqlite_settings)
    link = "https://docs.trkv-web.app/integrations/jira/setup-guide-with-screenshots"
    fits = f"See {link} " + "and then configure the project mapping carefully. " * 4
    with session_factory(x_sqlite_settings.db_url)() as session:
        ref = session.execute(select(Ticket)).scalar_one().ref

    with pytest.raises(replies.ReplyTooLong) as refused:
        replies.reply(ref, fits + "and then configure the project mapping carefully. " * 4, settings=x_sqlite_settings)
    assert refused.value.limit == X_LIMIT
    replies.reply(ref, fits, settings=x_sqlite_settings)  # over 280 characters, but the link counts 23
    dispatch_queued(x_sqlite_settings)

    reply = [t for t in server.replies_to(mention["id"]) if "docs." in t["text"]][0]
    assert x_length(reply["text"]) <= X_LIMIT and x_length(reply["text"]) < len(reply["text"])
    assert reply["text"] == f"@cy {fits.strip()}"


def test_a_post_over_the_budget_waits_for_the_reset_and_then_goes(x_sqlite_settings, server, clock):
    server.limits["post"] = 2
    budget = RateBudget({"post": 200, "users/me": 75, "timeline": 900}, clock=clock)
    sender = XSender(x_wiring.client(x_sqlite_settings, app=False), budget, max_wait=3600)
    sender._sleep = clock.sleep
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot status please")
    for n in range(5):
        sender.send(x_wiring.status_outbound(f"Investigating {n}", "sync delayed", "in 30 minutes", f"status:{n}"))
    sender.send(x_wiring.dm_outbound(cy["id"], "Could you send us your workspace id?", "dm:1"))
    assert server.over_budget == 0
    assert sum(1 for t in server.tweets.values() if t["text"].startswith("[Status] TRKV: Investigating")) == 5
    assert server.dms[0]["to"] == cy["id"]
    assert mention["id"] not in {r["id"] for t in server.tweets.values() for r in t.get("referenced_tweets", [])}


def test_a_post_blocked_longer_than_a_worker_waits_is_retried_later(x_sqlite_settings, server, clock):
    budget = RateBudget({"post": 200}, clock=clock)
    sender = XSender(x_wiring.client(x_sqlite_settings, app=False), budget, max_wait=60)
    server.fail("post", "429")  # X: used up for the next 60 s
    with pytest.raises(ConnectorError) as raised:
        sender.send(x_wiring.status_outbound("Resolved", "none", "none", "status:late"))
    assert not raised.value.permanent
    assert server.count("post") == 1


def test_without_user_keys_replies_go_to_the_log_sender(monkeypatch, tmp_path, sqlite_url, server):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, x_api_base=server.base_url, x_bearer_token="app")
    assert x_wiring.sender(settings) is None
    assert len(x_wiring.receivers(settings)) == 1


def test_the_bot_user_id_is_looked_up_once(x_sqlite_settings, server, clock):
    receiver = receiver_for(x_sqlite_settings, clock)
    for _ in range(3):
        receiver.poll_once(DatabaseSink(x_sqlite_settings))
        clock.sleep(receiver.interval())
    assert server.count("users") == 1 and server.count("mentions") == 3


def wait_until(condition, what: str, limit: float = 30.0) -> None:
    """A guard against hanging, not a timing assertion."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_trkv_connect_x_keeps_polling_until_stopped(monkeypatch, tmp_path, sqlite_url):
    from storage.db import dispose_engines
    from support.intake import receive as connect

    with XServer(limits={"mentions": 90_000, "search": 90_000}) as srv:  # on the real clock
        settings = settings_for(monkeypatch, tmp_path, sqlite_url, x_api_base=srv.base_url, x_bearer_token="app",
                                x_mentions_limit_app="90000", x_search_limit_app="90000", x_poll_min_seconds="0.02")
        cy = srv.user("cy")
        srv.tweet(cy, "@trkvbot first")
        stop = threading.Event()
        thread = threading.Thread(target=connect.run, args=(settings, ["x"], stop), daemon=True)
        thread.start()
        wait_until(lambda: count(settings, InboundQueue) == 1, "the first mention")
        srv.tweet(cy, "@trkvbot second")
        wait_until(lambda: count(settings, InboundQueue) == 2, "the second mention")
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
        assert srv.over_budget == 0
        assert srv.count("mentions") >= 2
    dispose_engines()


def test_a_page_x_refuses_midway_is_fetched_again_and_nothing_is_skipped(x_sqlite_settings, server, clock):
    cy = server.user("cy")
    tweets = [server.tweet(cy, f"@trkvbot the export fails with error 500, try {n}") for n in range(15)]
    receiver = receiver_for(x_sqlite_settings, clock, page_size=10, search_query="")
    server.fail("mentions", "ok", "400")  # the second page: an invalid pagination token

    receiver.poll_once(DatabaseSink(x_sqlite_settings))
    assert DatabaseSink(x_sqlite_settings).load_cursor("x:mentions:since_id") is None  # the older 5 are not seen yet
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as operator:
        assert operator.get("/healthz").json()["connectors"]["x"]["state"] == "degraded"

    receiver.poll_once(DatabaseSink(x_sqlite_settings))
    with session_factory(x_sqlite_settings.db_url)() as session:
        staged = session.execute(select(InboundQueue.external_id)).scalars().all()
    assert sorted(staged, key=int) == [t["id"] for t in tweets]  # each once
    assert DatabaseSink(x_sqlite_settings).load_cursor("x:mentions:since_id") == tweets[-1]["id"]


def test_a_reply_whose_answer_was_lost_is_found_on_the_retry_and_not_posted_twice(x_settings, server, clock):
    """X posted the acknowledgement but answered 503; then a 503 before posting. The
    row is retried until sent, and Cy sees exactly one acknowledgement."""
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot the API returns error 500 for every request")
    receiver_for(x_settings, clock).poll_once(DatabaseSink(x_settings))
    ingest_pending(x_settings)
    sender = x_wiring.sender(x_settings)
    sender.budget.clock, sender._sleep = clock, clock.sleep
    server.fail("post", "503-after")
    server.fail("timeline", "503")

    outcomes = []
    for _ in range(3):
        with session_factory(x_settings.db_url)() as session:
            outbox_id = session.execute(select(Outbox.id)).scalar_one()
        outcomes.append(dispatch(outbox_id, x_settings).status)

    assert outcomes == ["retry", "sent", "skipped"]
    assert len(server.replies_to(mention["id"])) == 1
    assert server.count("post") == 1 and server.over_budget == 0


def test_a_status_update_is_tweeted_once_however_often_it_is_queued(x_settings, server):
    for _ in range(2):
        outbox_id = x_wiring.post_status("Investigating", "Sync is delayed for some workspaces", "16:30 UTC",
                                         key="status:incident-7:1", settings=x_settings)
    assert dispatch(outbox_id, x_settings).status == "sent"
    (tweet,) = [t for t in server.tweets.values() if t["author_id"] == server.bot["id"]]
    assert tweet["text"] == ("[Status] TRKV: Investigating. Impact: Sync is delayed for some workspaces. "
                             "Next update: 16:30 UTC.")
    assert "referenced_tweets" not in tweet  # a tweet of its own, not a reply


def test_a_reply_without_a_tweet_to_answer_is_never_posted_publicly(x_sqlite_settings, server):
    sender = x_wiring.sender(x_sqlite_settings)
    with pytest.raises(ConnectorError) as raised:
        sender.send(Outbound(channel="x", kind="reply", idempotency_key="reply:lost", text="Fixed now!"))
    assert raised.value.permanent
    assert server.count("post") == 0


def test_with_only_user_keys_the_poller_reads_as_the_bot_with_the_user_limits(
    monkeypatch, tmp_path, sqlite_url, server, clock
):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, x_api_base=server.base_url, x_consumer_key="ck",
                            x_consumer_secret="cs", x_access_token="at", x_access_token_secret="ats")
    cy = server.user("cy")
    mention = server.tweet(cy, "@trkvbot sync is stuck")
    receiver = receiver_for(settings, clock)
    assert receiver.budget.limit("search") == 180  # the user tier, until X's headers say otherwise
    receiver.poll_once(DatabaseSink(settings))
    assert {r["auth"] for r in server.requests} == {"OAuth"}  # signed OAuth 1.0a requests
    assert server.count("users/me") == 1
    assert DatabaseSink(settings).load_cursor("x:mentions:since_id") == mention["id"]


def test_a_direct_message_becomes_a_ticket_answered_privately_and_the_conversation_stays_in_it(x_settings, server,
                                                                                               clock):
    """Cy writes to @trkvbot by DM: a ticket, one acknowledgement by DM (a reply tweet would make
    it public), Cy's next DM joins the ticket, the agent's reply is a DM, and our own DMs, which X
    lists with Cy's, are not read back as customer messages."""
    cy = server.user("cy", "Cy Twain")
    server.dm(cy, "hi, I was charged twice for invoice 4471, can you refund one?")
    receiver = receiver_for(x_settings, clock)

    poll_and_handle(receiver, x_settings)

    with session_factory(x_settings.db_url)() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
    assert ticket.channel == "x" and ticket.conversation_key == f"{min(cy['id'], server.bot['id'], key=int)}-" \
                                                              f"{max(cy['id'], server.bot['id'], key=int)}"
    assert [d["to"] for d in server.dms] == [cy["id"]] and f"TRKV-{ticket.id}" in server.dms[0]["text"]
    assert not [t for t in server.tweets.values() if t["author_id"] == server.bot["id"]]  # nothing public

    clock.now += 120  # the DM list's own pace: 15 requests in 15 minutes
    server.dm(cy, "the second charge was on the 3rd, order 88-31-zebra")
    poll_and_handle(receiver, x_settings)
    assert count(x_settings, Ticket) == 1
    assert count(x_settings, Message, Message.ticket_id == ticket.id, Message.direction == "in") == 2
    assert count(x_settings, Outbox, Outbox.kind == "ack") == 1

    replies.reply(ticket.ref, "Refunded, Cy: you will see it within 3 days.", settings=x_settings)
    dispatch_queued(x_settings)
    assert [d["text"] for d in server.dms][-1] == "Refunded, Cy: you will see it within 3 days."
    clock.now += 120
    poll_and_handle(receiver, x_settings)  # X now lists our two DMs too
    assert count(x_settings, Message, Message.direction == "in") == 2
    assert server.over_budget == 0


def test_direct_messages_are_read_once_across_restarts_and_only_recent_ones_on_the_first_poll(x_sqlite_settings,
                                                                                              server, clock):
    cy, dee = server.user("cy"), server.user("dee")
    server.dm(dee, "are you there? (sent long before the hub was set up)")
    clock.now += 3 * 3600  # older than the first poll's backfill window (2 h)
    server.dm(cy, "my export is stuck, workspace acme")
    first = receiver_for(x_sqlite_settings, clock)
    poll_and_handle(first, x_sqlite_settings)
    assert count(x_sqlite_settings, Message) >= 1
    assert count(x_sqlite_settings, Message, Message.direction == "in") == 1

    clock.now += 600
    server.dm(cy, "still stuck")
    restarted = receiver_for(x_sqlite_settings, clock)  # a new process: only the cursor remembers
    poll_and_handle(restarted, x_sqlite_settings)
    with session_factory(x_sqlite_settings.db_url)() as session:
        texts = session.execute(select(Message.text).where(Message.direction == "in").order_by(Message.id)).scalars()
        assert list(texts) == ["my export is stuck, workspace acme", "still stuck"]
        cursor = session.execute(select(ConnectorCursor.value).where(ConnectorCursor.name == "x:dms:since_id"))
        assert cursor.scalar_one() == max((e["id"] for e in server.dm_events), key=int)


def test_without_permission_to_read_direct_messages_the_mentions_still_arrive_and_healthz_says_why(
        x_sqlite_settings, server, clock):
    cy = server.user("cy")
    server.tweet(cy, "@trkvbot sync is stuck")
    server.fail("dm_events", "403")
    poll_and_handle(receiver_for(x_sqlite_settings, clock), x_sqlite_settings)
    assert count(x_sqlite_settings, Ticket) == 1
    with TestClient(create_app(x_sqlite_settings), headers=token_headers(x_sqlite_settings)) as client:
        health = client.get("/healthz").json()
    x_health = health["connectors"]["x"]
    assert x_health["state"] == "degraded" and "direct messages" in x_health["detail"]


def test_a_dm_acknowledgement_resent_after_a_crash_is_not_sent_twice(x_sqlite_settings, server, clock):
    """X has no idempotency key for DMs: the resend finds our DM among the account's newest."""
    cy = server.user("cy")
    server.dm(cy, "my invoices page is blank")
    outbox_id, payload = send_then_crash(x_sqlite_settings, clock)
    assert payload["meta"]["dm"] and payload["to"] == cy["id"]

    assert dispatch(outbox_id, x_sqlite_settings).status == "sent"

    assert len(server.dms) == 1 and server.count("dm") == 1
    with session_factory(x_sqlite_settings.db_url)() as session:
        assert session.get(Outbox, outbox_id).external_id == server.dms[0]["id"]
