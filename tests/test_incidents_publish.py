"""Publishing's bad input and limits on SQLite and PostgreSQL: subscribe-form abuse is
refused without mail, long updates are fitted per channel (never cut mid-word without a
link), and a broadcast never exceeds a channel's budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from inbox.app import create_app
from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from support.delivery import acks as templates
from support.delivery import broadcast
from support.incidents import publish, status, subscribers
from support.incidents.subscribers import SubscribeError


@pytest.fixture
def client(settings):
    status.forget()
    with TestClient(create_app(settings)) as client:
        yield client


def mails(settings) -> int:
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(select(func.count()).select_from(Outbox).where(Outbox.channel == "email")).scalar_one()


def test_an_invalid_address_is_refused_clearly_and_sends_nothing(client, settings):
    for bad in ("not-an-address", "a@b", "<script>@x.com", "x" * 300 + "@example.com", ""):
        response = client.post("/status/subscribe", data={"email": bad})
        assert response.status_code == 422 and "valid email address" in response.text
    assert mails(settings) == 0


def test_the_same_address_a_hundred_times_gets_three_confirmations_at_most(client, settings):
    answers = [client.post("/status/subscribe", data={"email": "Sam@Example.com"}).status_code for _ in range(100)]
    assert answers[:3] == [202, 202, 202] and set(answers[3:]) == {429}
    assert mails(settings) == 3


def test_a_thousand_addresses_from_one_ip_are_cut_off(settings):
    told = []
    for n in range(1000):
        try:
            subscribers.subscribe(f"bot{n}@example.com", "203.0.113.9", settings)
            told.append("ok")
        except SubscribeError as exc:
            told.append(str(exc))
    assert told.count("ok") == subscribers.PER_IP_PER_HOUR
    assert "Too many subscriptions" in told[-1] and mails(settings) == subscribers.PER_IP_PER_HOUR


def test_forged_expired_and_misused_tokens_are_refused(client, settings):
    subscribers.subscribe("sam@example.com", "10.0.0.1", settings)
    good = subscribers.token(1, "confirm", settings, 1)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired = subscribers.token(1, "confirm", settings, -1)
    for token in (forged, expired, "1.confirm.9999999999.x", "garbage"):
        response = client.get(f"/status/confirm/{token}")
        assert response.status_code == 400 and ("not valid" in response.text or "expired" in response.text)
    assert client.post(f"/status/unsubscribe/{good}").status_code == 400  # a confirm token does not unsubscribe
    assert client.get(f"/status/confirm/{good}").status_code == 200
    unsubscribe = subscribers.token(1, "unsubscribe", settings, 1)
    assert "Unsubscribe" in client.get(f"/status/unsubscribe/{unsubscribe}").text  # a GET only asks
    assert client.post(f"/status/unsubscribe/{unsubscribe}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert mails(settings) == 1


LONG = ("We identified the cause: a configuration change to the load balancers sent traffic to a pool of servers "
        "that were being drained for maintenance. " * 6).strip()
LINK = "https://status.trkv.test/status#incident-7"


def test_a_long_update_is_fitted_to_x_with_the_link_and_cut_between_words():
    post = publish.fit_x(LONG, LINK)
    assert templates.x_length(post) <= publish.X_ROOM and post.endswith(LINK)
    kept = post[: -len(LINK)].rstrip().removesuffix("…").rstrip()
    assert LONG.startswith(kept) and LONG[len(kept)] == " "  # the cut falls between words
    short = publish.fit_x("All good again.", LINK)
    assert short == f"All good again.\n{LINK}"


def test_a_long_update_is_fitted_to_discord_and_kept_whole_for_email_and_the_page():
    body = publish.fit(LONG * 3, publish.DISCORD_LIMIT, LINK)
    assert len(body) <= publish.DISCORD_LIMIT and body.endswith(LINK)
    assert publish.fit("short", publish.DISCORD_LIMIT, LINK) == "short"


def test_a_broadcast_never_goes_over_a_channels_budget(settings):
    from connectors.base import Outbound

    now = utcnow()
    limit, window = broadcast.budgets(settings)["x"]
    with transaction(settings.db_url) as session:
        destinations = [broadcast.Destination(Outbound(channel="x", kind="status", idempotency_key=f"b:{n}",
                                                       text=f"t{n}"), priority=n % 4) for n in range(limit + 50)]
        released = broadcast.queue(session, destinations, settings, now)
        assert len(released) == limit
        assert broadcast.progress(session, "b:")["held"] == 50
        assert broadcast.release(session, settings, now) == []  # the window is full
    with transaction(settings.db_url) as session:  # the first window's posts went out
        session.execute(Outbox.__table__.update().where(Outbox.status == "queued")
                        .values(status="sent", sent_at=now))
    with transaction(settings.db_url) as session:
        assert broadcast.release(session, settings, now + timedelta(seconds=window / 2)) == []
        assert len(broadcast.release(session, settings, now + timedelta(seconds=window + 1))) == 50


def test_webhook_and_component_subscribers_get_what_they_follow(settings):
    from sqlalchemy import update as sql_update

    from storage.models.incidents import StatusSubscriber
    from support.incidents import core
    from support.incidents.core import Actor

    subscribers.add_webhook("https://hooks.example.com/trkv", settings)
    subscribers.add_webhook("https://auth-only.example.com/hook", settings, ["Authentication"])
    subscribers.subscribe("api-fan@example.com", "10.0.0.3", settings, ["API"])
    with transaction(settings.db_url) as session:
        session.execute(sql_update(StatusSubscriber).values(confirmed_at=utcnow()))
    incident = core.declare("API errors", "major", Actor("eli@trkv.test", "engineer"), components_=["API"],
                            message="Looking into it.", settings=settings)
    with session_factory(settings.db_url, readonly=True)() as session:
        rows = session.execute(select(Outbox).where(Outbox.idempotency_key.like(f"inc:{incident['id']}:%"))).scalars().all()
    hooks = [r for r in rows if r.channel == "oncall"]
    assert [r.payload["meta"]["address"] for r in hooks] == ["https://hooks.example.com/trkv"]
    assert hooks[0].payload["meta"]["notifier"] == "webhook" and hooks[0].idempotency_key.endswith(":hook:1")
    assert [r.payload["to"] for r in rows if r.channel == "email"] == ["api-fan@example.com"]
