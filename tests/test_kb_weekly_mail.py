"""The weekly KB update by mail (SQLite, then PostgreSQL), through the outbox to a real SMTP
server (aiosmtpd): on Monday from 08:00 in the team's time zone each active engineer and
lead gets one mail with the stale articles, the falling helpfulness, the top missing topics
and the weak articles; a re-run that week, a second beat or a worker killed and restarted
mails nobody twice. The beat task runs in a real Celery worker process."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from inbox.app import create_app
from storage.db import dispose_engines, session_factory, transaction
from storage.models.base import utcnow
from storage.models.delivery import Outbox
from storage.models.kb import KbArticle
from support import accounts
from support.kb import seed
from support.kb.weekly_mail import send_weekly
from tests.conftest import settings_for
from tests.incident_parts import Smtp, drain, text_of
from tests.test_kb_reads import ask, write
from tests.workers import Worker, make_broker, worker_env
from trkv.celery_app import queue_name

TZ = "Europe/Berlin"
PEOPLE = {"erin.eng@trkv.test": "engineer", "lena.lead@trkv.test": "lead", "cam.cm@trkv.test": "community_manager",
          "old.eng@trkv.test": "engineer"}


def monday(hour: int) -> datetime:
    """The next Monday at `hour` in the team's time zone from now (within a week)."""
    local = datetime.now(ZoneInfo(TZ))
    at = datetime.combine(local.date() + timedelta(days=(7 - local.weekday()) % 7), clock(hour), ZoneInfo(TZ))
    return at if at >= local else at + timedelta(days=7)


def smtp_env(smtp: Smtp) -> dict[str, str]:
    return {"smtp_host": "127.0.0.1", "smtp_port": str(smtp.port), "smtp_starttls": "0", "smtp_timeout": "10",
            "business_timezone": TZ, "public_url": "https://help.trkv.test"}


def a_week_of_kb(settings) -> None:
    """The team, and a KB with a stale article, a missing topic and a weak article."""
    for email, role in PEOPLE.items():
        accounts.create_user(email, role, "pw-0123456789", settings=settings)
    accounts.set_active("old.eng@trkv.test", False, settings=settings)  # left the team
    seed.load(settings)
    with transaction(settings.db_url) as session:
        session.execute(update(KbArticle).where(KbArticle.slug == "pricing-plans")
                        .values(reviewed_at=utcnow() - timedelta(days=120)))
    public = TestClient(create_app(settings))
    for _ in range(2):
        public.get("/api/kb/search", params={"q": "dark mode"})
    _, link = ask(settings, 1)
    public.get(link)
    write(settings, 2)


def outbox_count(settings) -> int:
    with session_factory(settings.db_url)() as session:
        return session.execute(select(func.count()).select_from(Outbox).where(Outbox.kind == "kb_weekly")).scalar()


def weekly_recipients(smtp: Smtp) -> list[str]:
    return sorted(r for rcpt, m in smtp.mailbox.received if m["Subject"].startswith("TRKV knowledge base")
                  for r in rcpt)


def queued_by_runs(tmp_path) -> list[int]:
    """What each finished run of the task returned (rows queued), from the workers' log."""
    return [int(m) for m in re.findall(r"trkv\.kb_weekly\[[^\]]+\] succeeded in [\d.]+s: (\d+)",
                                       (tmp_path / "worker.log").read_text())]


@pytest.fixture
def smtp():
    with Smtp() as running:
        yield running


def test_the_weekly_update_is_mailed_to_engineers_and_leads_once_on_monday(monkeypatch, tmp_path, db_url, smtp):
    settings = settings_for(monkeypatch, tmp_path, db_url, **smtp_env(smtp))
    a_week_of_kb(settings)
    at = monday(9)
    assert send_weekly(settings, at - timedelta(days=1)) == []  # Sunday
    assert send_weekly(settings, at - timedelta(hours=2)) == []  # Monday 07:00 in Berlin
    assert len(send_weekly(settings, at)) == 2
    assert send_weekly(settings, at + timedelta(hours=1)) == []  # the next hourly beat
    drain(settings)
    assert weekly_recipients(smtp) == ["erin.eng@trkv.test", "lena.lead@trkv.test"]
    message = smtp.mailbox.to("erin.eng@trkv.test")[0]
    week = f"{at.isocalendar()[0]}-W{at.isocalendar()[1]:02d}"
    assert message["Subject"] == f"TRKV knowledge base: weekly update {week}"
    body = text_of(message).replace("\r\n", "\n")
    assert "Not reviewed in 90 days (1):\n  - Plans and pricing (" in body  # 120 days before today
    assert "days): https://help.trkv.test/kb-admin/pricing-plans/edit" in body
    assert '"dark mode" x2' in body
    assert "Weak articles (read, then a ticket within a day) (1):\n" \
           "  - Exports fail or the download never starts: 1 of 1 tracked reads (100%)" in body
    assert "https://help.trkv.test/kb-admin/weekly" in body
    assert send_weekly(settings, at + timedelta(hours=5)) == [] and outbox_count(settings) == 2
    drain(settings)
    assert len(weekly_recipients(smtp)) == 2
    dispose_engines()


def test_the_beat_task_in_a_worker_mails_once_even_run_twice_at_once_and_after_a_kill(
        monkeypatch, tmp_path, sqlite_url, smtp):
    import worker as tasks

    broker = make_broker("filesystem")
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, queue_prefix=broker.prefix, **smtp_env(smtp))
    assert tasks.app.conf.beat_schedule["kb-weekly"]["task"] == "trkv.kb_weekly"
    a_week_of_kb(settings)
    env = worker_env(settings, broker, **smtp_env(smtp))
    at = monday(9).isoformat()

    def run_task() -> None:
        tasks.app.send_task("trkv.kb_weekly", args=[at], queue=queue_name("bulk", settings))

    def settled(count: int) -> None:  # a hang guard, not a speed check
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_factory(settings.db_url)() as session:
                sent = session.execute(select(func.count()).select_from(Outbox).where(
                    Outbox.kind == "kb_weekly", Outbox.status == "sent")).scalar()
            if sent >= count and len(weekly_recipients(smtp)) >= count:
                return
            time.sleep(0.2)
        raise AssertionError(f"the weekly mail did not go out:\n{(tmp_path / 'worker.log').read_text()[-3000:]}")

    first = Worker(env, tmp_path / "worker.log").start()
    try:
        run_task(), run_task()  # two beats at once
        settled(2)
    finally:
        first.kill()  # the worker dies; the beat runs the task again within the hour
    second = Worker(env, tmp_path / "worker.log").start()
    try:
        run_task()
        deadline = time.monotonic() + 120
        while len(queued_by_runs(tmp_path)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # a hang guard, not a speed check
    finally:
        second.stop()
    runs = queued_by_runs(tmp_path)
    assert len(runs) == 3 and sum(runs) == 2 and runs[-1] == 0  # the run after the kill queued nothing
    assert outbox_count(settings) == 2
    assert weekly_recipients(smtp) == ["erin.eng@trkv.test", "lena.lead@trkv.test"]
    dispose_engines()
