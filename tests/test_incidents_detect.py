"""Detection from customers, through the real ingest on SQLite and PostgreSQL: a burst of
differently worded reports of one outage (tests/incident_corpus.py, TEST split) proposes
one incident, pages once, links the reports and none of the unrelated messages."""

from __future__ import annotations

import time

from sqlalchemy import select

from storage.db import session_factory
from storage.models.delivery import Outbox
from support.incidents import core
from support.incidents.core import Actor
from support.incidents.likeness import evidence, guess
from support.intake.ingest import ingest
from tests.incident_burst import inbound, incidents, linked_ids, pages_of_alert, status_rows
from tests.incident_corpus import TEST_OUTAGE, TEST_UNRELATED


def burst(settings, outage=TEST_OUTAGE, unrelated=TEST_UNRELATED) -> tuple[list[int], list[int]]:
    """The outage's reports with the unrelated messages mixed in; ticket ids of each."""
    outage_ids, unrelated_ids = [], []
    for n, text in enumerate(outage):
        outage_ids.append(ingest(inbound(n, text), settings=settings).ticket_id)
        if n % 3 == 2 and unrelated:
            k = len(unrelated_ids)
            if k < len(unrelated):
                unrelated_ids.append(ingest(inbound(k, unrelated[k], tag="u"), settings=settings).ticket_id)
    return outage_ids, unrelated_ids


def test_thirty_reports_propose_one_incident_that_links_them_and_none_of_the_unrelated(settings):
    outage_ids, unrelated_ids = burst(settings)
    [incident] = incidents(settings)
    assert incident.status == "proposed" and incident.detected
    linked = linked_ids(settings, incident.id)
    assert len(linked & set(outage_ids)) >= 0.8 * len(outage_ids)
    assert not linked & set(unrelated_ids)
    assert pages_of_alert(settings, incident.alert_id) == 1  # on-call paged once, to confirm or dismiss
    assert status_rows(settings) == 0  # nothing published before a person confirms
    assert incident.severity == "critical" and "502" in incident.title


def test_four_people_are_not_enough_and_one_person_writing_five_times_is_one(settings):
    for n, text in enumerate(TEST_OUTAGE[:3]):
        ingest(inbound(n, text), settings=settings)
    for k, text in enumerate(TEST_OUTAGE[3:9]):  # the fourth person writes six times
        message = inbound(3, text, channel="email")
        message.external_id = f"same-{k}@mail.example"
        ingest(message, settings=settings)
    assert incidents(settings) == []
    ingest(inbound(9, TEST_OUTAGE[9]), settings=settings)  # a fifth person
    assert [i.status for i in incidents(settings)] == ["proposed"]


def test_numbers_that_name_an_order_or_a_question_are_not_status_codes(settings):
    """Ten people asking numbered questions (500-509) is a busy day, not a 5xx outage."""
    for n in range(10):
        ingest(inbound(n, f"@trkvbot question number {500 + n}: how do exports work?", tag="q"), settings=settings)
    assert incidents(settings) == []
    assert evidence("where is order #512?") == set() and evidence("we paid invoice 503 twice") == set()
    assert "5xx" in evidence("the API answers 502 to everything") and "5xx" in evidence("getting 503s")


def test_while_open_new_alike_tickets_link_name_the_incident_and_page_no_one(settings):
    burst(settings, TEST_OUTAGE[:8], [])
    [incident] = incidents(settings)
    proposed_ack = _ack_text(settings, ingest(inbound(40, "trkv down? 502 here"), settings=settings).ticket_id)
    assert "incident" not in proposed_ack.lower()  # a proposal's acknowledgements stay generic
    core.post_update(incident.id, "investigating", "We are looking into 502 errors.", Actor("eli@trkv.test", "engineer"),
                     settings=settings)
    late = ingest(inbound(41, "Bad gateway when I open the dashboard", channel="email"), settings=settings).ticket_id
    assert late in linked_ids(settings, incident.id)
    text = _ack_text(settings, late)
    assert incident.title in text and "/status#incident-" in text
    with session_factory(settings.db_url, readonly=True)() as session:
        assert session.execute(select(Outbox).where(Outbox.ticket_id == late, Outbox.kind == "page")).first() is None
    other = ingest(inbound(42, "How do I export my projects to CSV?", channel="email"), settings=settings).ticket_id
    assert other not in linked_ids(settings, incident.id)


def test_a_dismissed_proposal_stops_collecting(settings):
    burst(settings, TEST_OUTAGE[:6], [])
    [incident] = incidents(settings)
    core.post_update(incident.id, "dismissed", "", Actor("eli@trkv.test", "engineer"), settings=settings)
    before = linked_ids(settings, incident.id)
    ingest(inbound(50, "site down, bad gateway again"), settings=settings)
    assert linked_ids(settings, incident.id) == before


def test_status_codes_and_error_names_are_evidence_and_guesses_name_the_component():
    assert evidence("API answers 502 to everything") >= {"5xx"}
    assert evidence("is trkv down??") == {"down"}
    assert evidence("connect ETIMEDOUT 10.0.0.1:443") == {"timeout"}
    assert evidence("How do I export my projects?") == set()
    title, severity, components = guess(["API answers 502", "our API calls fail with 502", "502 on every endpoint"],
                                        ["critical", "high", "critical"])
    assert components[0] == "API" and severity == "critical" and "502" in title


def _ack_text(settings, ticket_id: int) -> str:
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(select(Outbox).where(Outbox.ticket_id == ticket_id, Outbox.kind == "ack")).scalar_one()
        return row.payload["text"]


def test_only_a_batch_that_may_propose_queues_behind_a_proposal_being_formed(monkeypatch, tmp_path, request):
    """On PostgreSQL, proposing holds one lock, so that two ingests never propose twin
    incidents. A batch that cannot propose does not wait for that lock: nothing urgent in
    it, or an urgent report whose window holds too few urgent people (the everyday case,
    and during a bulk import the waits were the live path's slowest statements). Once
    enough people reported, the next report may propose: it waits its turn."""
    import threading

    from sqlalchemy import create_engine, text

    from support.incidents.detect import _LOCK_ID
    from tests.conftest import make_db_url, settings_for

    settings = settings_for(monkeypatch, tmp_path, make_db_url("postgresql", request, tmp_path))
    holder = create_engine(settings.db_url).connect()
    holder.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})  # another ingest is proposing
    done: dict[str, int] = {}

    def run(name, message):
        done[name] = ingest(message, settings=settings).ticket_id

    def stored_while_held(name, message) -> bool:
        thread = threading.Thread(target=run, args=(name, message))
        thread.start()
        thread.join(timeout=3)
        return name in done

    try:
        assert stored_while_held("everyday", inbound(90, "how do I export my projects to csv?", tag="e"))
        for n in range(settings.incident_min_contacts - 1):  # four people report: too few to propose
            assert stored_while_held(f"report {n}", inbound(n, TEST_OUTAGE[n]))
        assert not stored_while_held("fifth", inbound(4, TEST_OUTAGE[4]))  # may propose: waits its turn
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
        holder.close()
    deadline = time.monotonic() + 60  # a hang guard, not a speed check
    while "fifth" not in done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "fifth" in done
    assert [i.status for i in incidents(settings)] == ["proposed"]


def test_a_historical_import_is_a_record_not_reports_of_a_current_outage(settings):
    """`trkv import` of an archive stores tickets created "now". An old outage in it is not
    a current one: live reports gather only live tickets, and five live people still propose."""
    from support.intake.ingest import ingest_batch

    archive = [inbound(20 + n, text, tag="old") for n, text in enumerate(TEST_OUTAGE[5:15])]
    old_ids = {r.ticket_id for r in ingest_batch(archive, live=False, settings=settings, bulk=True)}
    ingest(inbound(0, TEST_OUTAGE[0]), settings=settings)  # one live report: ten archived people are no burst
    assert incidents(settings) == []
    for n, text in enumerate(TEST_OUTAGE[1:5], start=1):
        ingest(inbound(n, text), settings=settings)
    [incident] = incidents(settings)
    linked = linked_ids(settings, incident.id)
    assert len(linked) >= 4 and not linked & old_ids


def test_the_window_is_read_through_the_index_of_live_tickets_not_the_whole_table(sqlite_settings):
    """Every urgent live message looks at detection's window. Read in id order, SQLite walked the
    whole tickets table whenever the window held fewer than 500 tickets (the everyday case): 10 ms
    at 20,000 tickets, under the write lock, and growing with the table."""
    from sqlalchemy import event

    from storage.models.base import utcnow
    from support.incidents import detect

    with session_factory(sqlite_settings.db_url)() as session:
        connection, statements = session.connection(), []
        event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2:4]))
        detect._pool(session, sqlite_settings, utcnow())
        statement, parameters = statements[-1]
        plan = " ".join(row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    assert "ix_tickets_live_created" in plan and "SCAN tickets" not in plan, plan
