"""Scheduled maintenance on the real parts (the local Discord and X servers with the
unmodified discord.py and tweepy, aiosmtpd, SQLite and PostgreSQL): announced when
scheduled, reminded before it starts, its component under maintenance from its start and
operational again at its end, every notice once on every destination, even when the beat
runs twice, two beats run at once, or a worker dies in the middle of a phase."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from inbox.app import create_app
from storage.db import dispose_engines, session_factory
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.incidents import StatusSubscriber
from support.delivery import broadcast
from support.incidents import maintenance, status, subscribers
from support.incidents.core import Actor, IncidentError
from tests.discord_server import BOT, DiscordServer
from tests.incident_parts import Smtp, drain, hub_settings, text_of
from tests.x_server import XServer

ENGINEER = Actor("eli.eng@trkv.test", "engineer")


@pytest.fixture
def parts() -> Iterator[tuple]:
    with DiscordServer() as discord, XServer() as x, Smtp() as smtp:
        yield discord, x, smtp


@pytest.fixture
def hub(monkeypatch, tmp_path, db_url, parts, model_dir):
    discord, x, smtp = parts
    status.forget()
    yield hub_settings(monkeypatch, tmp_path, db_url, discord, x, smtp, model_dir)
    dispose_engines()


def confirmed(hub, address: str, components: list[str]) -> None:
    subscribers.subscribe(address, None, hub, components)
    with session_factory(hub.db_url, readonly=True)() as session:
        sub_id = session.execute(select(StatusSubscriber.id).where(StatusSubscriber.address == address)).scalar_one()
    subscribers.confirm(subscribers.token(sub_id, "confirm", hub, 1), hub)


def announcements(discord) -> list[str]:
    return [m["content"] for m in discord.history("announcements") if m["author"]["id"] == BOT["id"]]


def maintenance_mails(smtp, address: str) -> list:
    return [m for m in smtp.mailbox.to(address) if "maintenance" in text_of(m).lower()]


def public(hub) -> dict:
    status.forget()
    with TestClient(create_app(hub)) as client:
        return {"json": client.get("/status.json").json(), "html": client.get("/status").text,
                "atom": client.get("/status/feed.atom").text}


def component(page: dict, name: str) -> str:
    return {c["name"]: c["status"] for c in page["json"]["components"]}[name]


def test_a_window_is_announced_reminded_started_and_completed_once_everywhere(hub, parts):
    discord, x, smtp = parts
    confirmed(hub, "sam@example.com", ["API"])  # follows the API: told
    confirmed(hub, "uma@example.com", ["Authentication"])  # follows another component: not told
    drain(hub)
    start = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    window = maintenance.schedule("Database upgrade", start, start + timedelta(hours=1), ENGINEER,
                                  components_=["API"], description="The API may answer 503 for a few minutes.",
                                  settings=hub)
    drain(hub)
    # announced when scheduled: the status page, Discord, X, the subscriber of the API
    page = public(hub)
    assert "Scheduled maintenance" in page["html"] and "Database upgrade" in page["html"]
    [listed] = page["json"]["maintenance"]
    assert listed["id"] == window["id"] and listed["status"] == "scheduled" and listed["components"] == ["API"]
    assert "Maintenance scheduled: Database upgrade" in page["atom"]
    assert component(page, "API") == "operational"
    [post] = announcements(discord)
    assert post.startswith("[Status] TRKV Service Update") and "Scheduled maintenance: Database upgrade" in post
    [tweet] = [t for t in x.tweets.values() if t["text"].startswith("[Status]")]
    assert len(maintenance_mails(smtp, "sam@example.com")) == 1 and maintenance_mails(smtp, "uma@example.com") == []
    mail = maintenance_mails(smtp, "sam@example.com")[0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # nothing is due until the reminder; then the reminder, once, however often the beat runs
    assert maintenance.tick(hub, start - timedelta(minutes=61)) == []
    remind_at = start - timedelta(minutes=hub.maintenance_remind_minutes - 1)
    assert maintenance.tick(hub, remind_at) == [(window["id"], "remind")]
    assert maintenance.tick(hub, remind_at) == [] and maintenance.tick(hub, remind_at + timedelta(minutes=5)) == []
    drain(hub)
    assert len(announcements(discord)) == 2 and "starts soon" in announcements(discord)[1]

    # started on time: the component is under maintenance
    assert maintenance.tick(hub, start) == [(window["id"], "start")]
    assert maintenance.tick(hub, start + timedelta(seconds=30)) == []
    drain(hub)
    page = public(hub)
    assert component(page, "API") == "under_maintenance" and component(page, "Web app") == "operational"
    assert "Under maintenance" in page["html"] and "In progress" in page["html"]

    # completed on time: operational again, and off the page's maintenance section
    end = start + timedelta(hours=1)
    assert maintenance.tick(hub, end - timedelta(seconds=1)) == []
    assert maintenance.tick(hub, end) == [(window["id"], "complete")]
    assert maintenance.tick(hub, end + timedelta(minutes=1)) == []
    drain(hub)
    page = public(hub)
    assert component(page, "API") == "operational" and "Scheduled maintenance" not in page["html"]
    assert page["json"]["maintenance"][0]["status"] == "completed"
    assert "Maintenance completed: Database upgrade" in page["atom"]

    # each notice once on every destination; on X a thread under the announcement
    posts = announcements(discord)
    assert len(posts) == 4 and [p.count("[Status]") for p in posts] == [1, 1, 1, 1]
    assert "in progress" in posts[2] and "completed" in posts[3]
    replies = " ".join(t["text"] for t in x.replies_to(tweet["id"]))
    assert len(x.replies_to(tweet["id"])) == 3
    assert all(said in replies for said in ("starts soon", "in progress", "completed"))
    assert len(maintenance_mails(smtp, "sam@example.com")) == 4 and maintenance_mails(smtp, "uma@example.com") == []
    with session_factory(hub.db_url, readonly=True)() as session:
        keys = sorted(session.execute(select(Outbox.idempotency_key).where(
            Outbox.idempotency_key.like("maint:%"))).scalars())
    sam = next(k for k in keys if ":mail:" in k).rsplit(":", 1)[1]
    assert keys == sorted(f"maint:{window['id']}:{phase}:{dest}" for phase in ("announce", "remind", "start", "complete")
                          for dest in ("discord", "x", f"mail:{sam}"))


def test_a_cancelled_window_is_called_off_once_and_leaves_the_page(hub, parts):
    discord, _, _ = parts
    start = utcnow() + timedelta(days=2)
    window = maintenance.schedule("Network work", start, start + timedelta(hours=2), ENGINEER, settings=hub)
    cancelled = maintenance.cancel(window["id"], ENGINEER, hub)
    assert cancelled["status"] == "cancelled"
    with pytest.raises(IncidentError) as refused:
        maintenance.cancel(window["id"], ENGINEER, hub)
    assert refused.value.status == 409
    assert maintenance.tick(hub, start + timedelta(hours=1)) == []  # the beat never starts it
    drain(hub)
    posts = announcements(discord)
    assert len(posts) == 2 and "cancelled" in posts[1] and "will not take place" in posts[1]
    assert "Scheduled maintenance" not in public(hub)["html"]


def test_a_window_the_beat_missed_entirely_completes_with_one_notice(hub, parts):
    discord, _, _ = parts
    start = utcnow() + timedelta(minutes=10)  # inside the reminder's lead: the announcement is the reminder
    window = maintenance.schedule("Quick restart", start, start + timedelta(minutes=5), ENGINEER, settings=hub)
    assert maintenance.tick(hub, start - timedelta(minutes=5)) == []
    assert maintenance.tick(hub, start + timedelta(hours=1)) == [(window["id"], "complete")]
    drain(hub)
    assert len(announcements(discord)) == 2 and "completed" in announcements(discord)[1]


def test_two_beats_at_once_queue_each_notice_once(hub, parts):
    start = utcnow() + timedelta(hours=5)
    window = maintenance.schedule("Cache flush", start, start + timedelta(hours=1), ENGINEER, components_=["API"],
                                  settings=hub)
    ran: list = []
    beats = [threading.Thread(target=lambda: ran.extend(maintenance.tick(hub, start))) for _ in range(4)]
    for beat in beats:
        beat.start()
    for beat in beats:
        beat.join()
    assert ran == [(window["id"], "start")]
    with session_factory(hub.db_url, readonly=True)() as session:
        keys = session.execute(select(Outbox.idempotency_key).where(
            Outbox.idempotency_key.like(f"maint:{window['id']}:start:%"))).scalars().all()
    assert sorted(keys) == [f"maint:{window['id']}:start:discord", f"maint:{window['id']}:start:x"]


def test_a_worker_that_dies_mid_phase_leaves_it_to_the_next_beat(hub, parts, monkeypatch):
    discord, _, _ = parts
    start = utcnow() + timedelta(hours=5)
    window = maintenance.schedule("Disk swap", start, start + timedelta(hours=1), ENGINEER, settings=hub)
    real_queue = broadcast.queue

    def dies(session, destinations, settings, now):
        real_queue(session, destinations[:1], settings, now)  # one row written, then the process is gone
        raise SystemExit("worker killed")

    monkeypatch.setattr(broadcast, "queue", dies)
    with pytest.raises(SystemExit):
        maintenance.tick(hub, start)
    monkeypatch.setattr(broadcast, "queue", real_queue)
    assert maintenance.get(window["id"], hub)["status"] == "scheduled"  # nothing of the phase was kept
    assert maintenance.tick(hub, start) == [(window["id"], "start")]
    assert maintenance.tick(hub, start) == []
    drain(hub)
    assert [p for p in announcements(discord) if "in progress" in p] and len(announcements(discord)) == 2


def test_bad_windows_are_refused_with_a_reason(hub):
    now = utcnow()
    cases = [("", now + timedelta(hours=1), now + timedelta(hours=2), "needs a title"),
             ("Backwards", now + timedelta(hours=2), now + timedelta(hours=1), "end after it starts"),
             ("Past", now - timedelta(hours=2), now - timedelta(hours=1), "already over"),
             ("Far", now + timedelta(days=400), now + timedelta(days=400, hours=1), "a year ahead")]
    for title, start, end, reason in cases:
        with pytest.raises(IncidentError, match=reason):
            maintenance.schedule(title, start, end, ENGINEER, settings=hub)
    with pytest.raises(IncidentError, match="unknown component"):
        maintenance.schedule("Typo", now + timedelta(hours=1), now + timedelta(hours=2), ENGINEER,
                             components_=["Databse"], settings=hub)
    with pytest.raises(IncidentError) as refused:
        maintenance.schedule("By a CM", now + timedelta(hours=1), now + timedelta(hours=2),
                             Actor("cam.cm@trkv.test", "community_manager"), settings=hub)
    assert refused.value.status == 403
    assert maintenance.list_windows(None, hub) == []


def test_new_times_are_told_and_the_reminder_follows_them(hub, parts):
    discord, x, _ = parts
    start = utcnow() + timedelta(hours=4)
    window = maintenance.schedule("Kernel patch", start, start + timedelta(hours=1), ENGINEER, settings=hub)
    later = start + timedelta(hours=2)
    moved = maintenance.change(window["id"], ENGINEER, starts_at=later, ends_at=later + timedelta(hours=1),
                               settings=hub)
    assert moved["starts_at"] == later.isoformat()
    assert maintenance.tick(hub, start) == []  # the old start passes quietly
    assert maintenance.tick(hub, later - timedelta(minutes=30)) == [(window["id"], "remind")]
    with pytest.raises(IncidentError, match="the reminder has gone out") as refused:
        maintenance.change(window["id"], ENGINEER, starts_at=later + timedelta(hours=1), settings=hub)
    assert refused.value.status == 409
    assert maintenance.change(window["id"], ENGINEER, title="Kernel patch (security)", settings=hub)["title"] == \
        "Kernel patch (security)"
    drain(hub)
    posts = announcements(discord)
    assert len(posts) == 3 and "rescheduled" in posts[1] and later.strftime("%H:%M") in posts[1]
    assert "starts soon" in posts[2]
    [first] = [t for t in x.tweets.values() if "Scheduled maintenance" in t["text"]]
    assert len(x.replies_to(first["id"])) == 2
