"""Release notes (SQLite, then PostgreSQL): a release reaches its linked tickets on their
own channels exactly once, is announced on Discord and X, and is on /kb/releases and its
Atom feed; a fan-out killed half-way is finished by publishing again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from inbox.app import create_app
from storage.db import transaction
from storage.models.delivery import Outbox
from support.intake.ingest import ingest
from tests.cast import ada_email, bo_discord, cy_tweet
from tests.test_kb import api

ENGINEER = "eli.engineer@trkv.test"


@pytest.fixture
def client(settings) -> TestClient:
    with api(settings, ENGINEER, "engineer") as client:
        yield client


def tickets(settings, n: int) -> list[str]:
    """n tickets, a third each from email, Discord and X."""
    makers = [lambda i: ada_email(f"rel-{i}@mail.example", text=f"Please add dark mode {i}"),
              lambda i: bo_discord(str(1190000000000000000 + i), text=f"dark mode please {i}",
                                   conversation_key=f"thread-rel-{i}"),
              lambda i: cy_tweet(str(1870000000000000000 + i), text=f"@trkvbot dark mode? {i}")]
    return [ingest(makers[i % 3](i), live=False, settings=settings).ref for i in range(n)]


def release_rows(settings) -> list[Outbox]:
    with transaction(settings.db_url) as session:
        return session.execute(select(Outbox).where(Outbox.idempotency_key.like("%release:%"))).scalars().all()


def test_a_release_reaches_each_linked_ticket_on_its_channel_once(client, settings):
    refs = tickets(settings, 6)
    body = {"version": "2.4.0-rc.1", "title": "Dark mode", "notes": "## New\n- Dark mode <script>x</script>",
            "ticket_refs": refs}
    made = client.post("/api/releases", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["ticket_refs"] == refs
    again = client.post("/api/releases", json=body)
    assert again.status_code == 200
    rows = release_rows(settings)
    replies = [r for r in rows if r.kind == "reply"]
    assert len(replies) == 6 and Counter(r.channel for r in replies) == {"email": 2, "discord": 2, "x": 2}
    assert all("shipped in TRKV 2.4.0-rc.1." in r.payload["text"] for r in replies)
    assert sorted(r.channel for r in rows if r.kind == "status") == ["discord", "x"]
    assert sorted(f"TRKV-{r.ticket_id}" for r in replies) == sorted(refs)

    public = TestClient(create_app(settings))
    page = public.get("/kb/releases")
    assert "TRKV 2.4.0-rc.1: Dark mode" in page.text and "<script>x" not in page.text
    feed = public.get("/kb/releases.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "<title>TRKV 2.4.0-rc.1: Dark mode</title>" in feed.text


def test_articles_about_what_a_release_changed_are_flagged_until_saved(client, settings):
    from support.kb import articles, seed, weekly

    seed.load(settings)
    client.post("/api/releases", json={"version": "2.6", "title": "Two-factor authentication with passkeys",
                                       "notes": "Two-factor authentication now accepts passkeys besides "
                                                "authenticator apps; recovery codes are unchanged."})
    flagged = weekly.report(settings)["flagged"]
    assert [f["slug"] for f in flagged] == ["two-factor-authentication"]
    assert flagged[0]["reason"] == "release 2.6 changed what it describes"
    articles.update(settings, "two-factor-authentication", {"body": "Passkeys work too."}, author="eli")
    assert weekly.report(settings)["flagged"] == []


def test_a_release_naming_unknown_tickets_is_refused_and_sends_nothing(client, settings):
    refused = client.post("/api/releases", json={"version": "2.5", "title": "x", "ticket_refs": ["TRKV-999999"]})
    assert refused.status_code == 422 and "TRKV-999999" in str(refused.json()["detail"])
    assert client.post("/api/releases", json={"version": "2.5", "title": "x", "ticket_refs": ["nonsense"]}
                       ).status_code == 422
    assert release_rows(settings) == []


FAN_OUT = """
import sys
from support.kb import releases
from trkv.settings import get_settings
releases.publish(get_settings(), version="3.0", title="Big", notes="n", ticket_refs=sys.argv[1].split(","),
                 author="eli")
"""


def test_a_fan_out_killed_half_way_is_finished_once_by_publishing_again(client, settings):
    refs = tickets(settings, 20)
    env = {**os.environ, "TRKV_DATABASE_URL": settings.db_url}
    process = subprocess.Popen([sys.executable, "-c", FAN_OUT, ",".join(refs)], env=env)
    while process.poll() is None and len([r for r in release_rows(settings) if r.kind == "reply"]) < 5:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = client.post("/api/releases", json={"version": "3.0", "title": "Big", "notes": "n", "ticket_refs": refs})
    assert done.status_code in (200, 201)
    rows = release_rows(settings)
    replies = Counter(r.ticket_id for r in rows if r.kind == "reply")
    assert len(replies) == 20 and set(replies.values()) == {1}
    assert Counter(r.channel for r in rows if r.kind == "reply") == {"email": 7, "discord": 7, "x": 6}
    assert len([r for r in rows if r.kind == "status"]) == 2
    with transaction(settings.db_url) as session:
        assert session.execute(select(func.count()).select_from(Outbox)
                               .where(Outbox.idempotency_key.like("reply:%:0:release:%"))).scalar_one() == 20
