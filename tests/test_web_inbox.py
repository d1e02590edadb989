"""The inbox's workflows through the web pages: filters, search, paging, triage
corrections, assignment, status, notes, replies, merges, blocks, views, bulk actions,
the dashboard and the operations page (SQLite, and PostgreSQL where the SQL differs)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from inbox.app import create_app
from storage.db import transaction
from storage.models.base import utcnow
from storage.models.contacts import Contact, Identity
from storage.models.delivery import Outbox
from storage.models.intake import Quarantine
from storage.models.tickets import Message, Ticket, TicketEvent
from support import accounts
from support.intake.ingest import ingest
from support.tickets.queries import TicketFilters, list_tickets
from tests.cast import ada_email, bo_discord, cy_tweet

PASSWORD = "correct horse battery"
USERS = {"lead": "lena.lead@trkv.test", "engineer": "eli.eng@trkv.test", "community_manager": "cam.cm@trkv.test"}


class Browser:
    """A logged-in browser: `post` sends the CSRF token the pages carry."""

    def __init__(self, client: TestClient, email: str) -> None:
        self.client = client
        page = client.get("/login").text
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page)})
        assert response.status_code == 303
        self.token = _csrf(client.get("/").text)

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token})


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _flash(response) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(response.headers["location"]).query).get("flash", [""])[0]


@pytest.fixture
def people(settings):
    return {role: accounts.create_user(email, role, PASSWORD, settings=settings) for role, email in USERS.items()}


@pytest.fixture
def app(settings, people):
    return create_app(settings)


def browser_for(app, role: str) -> Browser:
    return Browser(TestClient(app, follow_redirects=False), USERS[role])


@pytest.fixture
def cm(app) -> Browser:
    return browser_for(app, "community_manager")


@pytest.fixture
def engineer(app) -> Browser:
    return browser_for(app, "engineer")


@pytest.fixture
def lead(app) -> Browser:
    return browser_for(app, "lead")


def refs_on(page: str) -> list[str]:
    return re.findall(r'<tr class="ticket-row[^"]*" data-ref="([^"]+)"', page)


def events(settings, ref: str, kind: str) -> list[TicketEvent]:
    with transaction(settings.db_url) as session:
        return list(session.execute(select(TicketEvent).where(TicketEvent.ticket_id == int(ref[5:]),
                                                              TicketEvent.kind == kind)
                                    .order_by(TicketEvent.id)).scalars())


def ticket_row(settings, ref: str) -> Ticket:
    with transaction(settings.db_url) as session:
        return session.get(Ticket, int(ref[5:]))


# the list ----------------------------------------------------------------------------


def test_the_inbox_lists_every_channel_by_due_time(cm, settings):
    email = ingest(ada_email(), live=False, settings=settings).ref
    discord = ingest(bo_discord(), live=False, settings=settings).ref
    tweet = ingest(cy_tweet(), live=False, settings=settings).ref
    with transaction(settings.db_url) as session:  # the email is due first, then the tweet
        now = utcnow()
        for ref, hours in ((email, 1), (tweet, 2), (discord, 3)):
            session.execute(update(Ticket).where(Ticket.id == int(ref[5:]))
                            .values(first_response_due_at=now + timedelta(hours=hours)))
    assert refs_on(cm.get("/").text) == [email, tweet, discord]


def test_filters_narrow_the_list(cm, settings, people):
    email = ingest(ada_email(), live=False, settings=settings).ref
    discord = ingest(bo_discord(), live=False, settings=settings).ref
    tweet = ingest(cy_tweet(), live=False, settings=settings).ref
    with transaction(settings.db_url) as session:
        session.execute(update(Ticket).where(Ticket.id == int(email[5:])).values(
            first_response_due_at=utcnow() - timedelta(minutes=5)))  # late
        session.execute(update(Ticket).where(Ticket.id == int(tweet[5:])).values(
            assignee_id=people["community_manager"].id, needs_triage=False))
    assert refs_on(cm.get("/?channel=discord").text) == [discord]
    assert refs_on(cm.get("/?sla=breached").text) == [email]
    assert refs_on(cm.get("/?assignee=me").text) == [tweet]
    assert set(refs_on(cm.get("/?assignee=none").text)) == {email, discord}
    assert tweet not in refs_on(cm.get("/?triage=needs").text)
    assert refs_on(cm.get("/?status=resolved").text) == []


def test_search_finds_words_and_prefixes(cm, settings):
    export = ingest(ada_email(subject="Exporting projects fails"), live=False, settings=settings).ref
    ingest(bo_discord(text="the timeline view crashes when I zoom"), live=False, settings=settings)
    assert refs_on(cm.get("/?q=export").text) == [export]  # stemmed: "exporting"
    assert refs_on(cm.get("/?q=timel").text) != []  # the last word is a prefix
    assert refs_on(cm.get("/?q=timeline+export").text) == []  # every word must occur
    assert refs_on(cm.get('/?q="OR+*+NEAR(').text) == []  # query syntax is never passed through


def test_keyset_pages_walk_every_ticket_once_in_due_order(cm, settings):
    from support.tickets import queries as tickets

    created = [ingest(ada_email(f"m{n}@x"), live=False, settings=settings).ref for n in range(7)]
    seen, cursor = [], None
    while True:
        page = tickets.list_tickets(None, 3, cursor, settings, sort="due")
        seen += [t["ref"] for t in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 7
    dues = [ticket_row(settings, ref).first_response_due_at for ref in seen]
    assert dues == sorted(dues)
    next_link = re.search(r'rel="next" href="([^"]+)"', cm.get("/").text)
    assert next_link is None  # 7 tickets fit on one page of 50


def test_the_rows_fragment_keeps_the_pages_filters(cm, settings):
    ingest(ada_email(), live=False, settings=settings)
    discord = ingest(bo_discord(), live=False, settings=settings).ref
    page = cm.get("/?channel=discord").text
    src = re.search(r'data-src="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert refs_on(cm.get(src).text) == [discord]


def test_a_saved_view_reopens_its_filters(cm, settings):
    ingest(ada_email(), live=False, settings=settings)
    discord = ingest(bo_discord(), live=False, settings=settings).ref
    response = cm.post("/views", {"name": "Discord only", "channel": "discord"})
    assert response.status_code == 303
    view_page = cm.get(response.headers["location"]).text
    assert "Discord only" in view_page and refs_on(view_page) == [discord]


def test_another_users_view_is_not_shown(cm, engineer, settings):
    response = cm.post("/views", {"name": "Mine", "channel": "discord"})
    view_id = response.headers["location"].split("=")[1]
    assert "Mine" not in engineer.get(f"/?view={view_id}").text


def test_bulk_assign_and_resolve(cm, settings, people):
    refs = [ingest(ada_email(f"b{n}@x"), live=False, settings=settings).ref for n in range(3)]
    response = cm.post("/bulk", {"action": "assign_me", "ref": refs[:2], "back": "/"})
    assert _flash(response) == "2 updated"
    assert [ticket_row(settings, r).assignee_id for r in refs] == [people["community_manager"].id] * 2 + [None]
    cm.post("/bulk", {"action": "resolve", "ref": refs})
    assert {ticket_row(settings, r).status for r in refs} == {"resolved"}


# the ticket page -----------------------------------------------------------------------


def test_accepting_the_suggestion_records_a_triage_confirmation(cm, settings, people):
    ref = ingest(bo_discord(), live=False, settings=settings).ref
    with transaction(settings.db_url) as session:  # a suggestion the model was unsure of
        session.execute(update(Ticket).where(Ticket.id == int(ref[5:])).values(needs_triage=True,
                                                                                suggestion_confidence=0.42))
    before = ticket_row(settings, ref)
    page = cm.get(f"/tickets/{ref}").text
    assert "Accept suggestion" in page and "42 %" in page and "needs triage" in page
    assert cm.post(f"/tickets/{ref}/triage", {"action": "accept"}).status_code == 303
    triage = events(settings, ref, "triage")
    assert [(e.field, e.suggested, e.old_value, e.new_value, e.user_id, e.model_version) for e in triage] == [
        ("priority", before.suggested_priority, before.priority, before.suggested_priority,
         people["community_manager"].id, before.model_version),
        ("category", before.suggested_category, before.category, before.suggested_category,
         people["community_manager"].id, before.model_version),
    ]
    assert not ticket_row(settings, ref).needs_triage


def test_changing_the_priority_is_a_correction_and_moves_the_due_time(cm, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    before = ticket_row(settings, ref)
    new = "critical" if before.priority != "critical" else "low"
    cm.post(f"/tickets/{ref}/triage", {"field": "priority", "value": new})
    after = ticket_row(settings, ref)
    assert after.priority == new
    assert after.first_response_due_at != before.first_response_due_at
    (event,) = events(settings, ref, "triage")
    assert (event.suggested, event.old_value, event.new_value) == (before.suggested_priority, before.priority, new)


def test_an_invalid_triage_value_is_refused_with_the_reason(cm, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    response = cm.post(f"/tickets/{ref}/triage", {"field": "priority", "value": "urgent!!"})
    assert "is not a priority" in _flash(response)
    assert events(settings, ref, "triage") == []


def test_assign_status_and_notes(cm, settings, people):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    cm.post(f"/tickets/{ref}/assign", {"assignee": "me"})
    cm.post(f"/tickets/{ref}/notes", {"text": "<b>call her back</b> tomorrow"})
    cm.post(f"/tickets/{ref}/status", {"status": "resolved"})
    ticket = ticket_row(settings, ref)
    assert ticket.assignee_id == people["community_manager"].id
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    page = cm.get(f"/tickets/{ref}").text
    assert "&lt;b&gt;call her back&lt;/b&gt; tomorrow" in page and USERS["community_manager"] in page


def test_a_reply_submitted_twice_is_queued_once(cm, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    page = cm.get(f"/tickets/{ref}").text
    key = re.search(r'name="reply_key" value="([^"]+)"', page).group(1)
    form = {"text": "Hi Ada, try Settings > Export.", "channel": "email", "reply_key": key, "then": "resolved"}
    cm.post(f"/tickets/{ref}/reply", form)
    cm.post(f"/tickets/{ref}/reply", form)
    with transaction(settings.db_url) as session:
        replies = session.execute(select(Outbox).where(Outbox.kind == "reply")).scalars().all()
    assert [r.payload["text"] for r in replies] == ["Hi Ada, try Settings > Export."]
    assert ticket_row(settings, ref).status == "resolved"


def test_a_reply_longer_than_x_allows_is_refused_not_cut(cm, settings):
    ref = ingest(cy_tweet(), live=False, settings=settings).ref
    assert 'data-limit="276"' in cm.get(f"/tickets/{ref}").text  # "@cy " goes in front
    response = cm.post(f"/tickets/{ref}/reply", {"text": "x" * 277, "channel": "email", "reply_key": "k1"})
    assert "277 characters; x allows 276 here" in _flash(response)
    emoji = cm.post(f"/tickets/{ref}/reply", {"text": "🎉" * 139, "channel": "x", "reply_key": "k2"})
    assert "278 characters" in _flash(emoji)  # X counts an emoji as 2
    with transaction(settings.db_url) as session:
        assert session.execute(select(func.count()).select_from(Outbox).where(Outbox.kind == "reply")).scalar() == 0


def test_composer_offers_templates_filled_with_the_name_and_ref(cm, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    page = cm.get(f"/tickets/{ref}").text
    assert "Hi Ada, thanks for the report! We&#39;re looking into it now" in page and f"({ref})" in page


def test_merging_tickets_moves_the_conversation(engineer, settings):
    first = ingest(ada_email("a1@x", subject="Export broken"), live=False, settings=settings).ref
    second = ingest(bo_discord(), live=False, settings=settings).ref
    response = engineer.post(f"/tickets/{second}/merge", {"into": first})
    assert response.headers["location"].startswith(f"/tickets/{first}")
    with transaction(settings.db_url) as session:
        moved = session.execute(select(Message.ticket_id).where(Message.channel == "discord")).scalar_one()
    assert moved == int(first[5:])
    source = ticket_row(settings, second)
    assert source.status == "closed" and source.parent_id == int(first[5:])
    page = engineer.get(f"/tickets/{first}").text
    assert "the timeline view crashes" in page and "Export broken" in page
    found = [t["ref"] for t in list_tickets(TicketFilters(q="timeline zoom", status=["new", "open"]), settings=settings).items]
    assert found == [first]  # the moved messages are found on the ticket they moved to


def test_merging_contacts_joins_their_identities(engineer, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    ingest(bo_discord(), live=False, settings=settings)
    with transaction(settings.db_url) as session:
        ada = session.execute(select(Identity.contact_id).where(Identity.channel == "email")).scalar_one()
        bo = session.execute(select(Identity.contact_id).where(Identity.channel == "discord")).scalar_one()
    engineer.post("/contacts/merge", {"source": str(bo), "target": str(ada), "back": f"/tickets/{ref}"})
    page = engineer.get(f"/tickets/{ref}").text
    assert "discord: bo" in page and "email: ada@example.com" in page
    with transaction(settings.db_url) as session:
        assert session.get(Contact, bo).merged_into_id == ada


def test_blocking_a_contact_closes_their_open_tickets(engineer, settings):
    ref = ingest(bo_discord(), live=False, settings=settings).ref
    contact_id = ticket_row(settings, ref).contact_id
    response = engineer.post(f"/contacts/{contact_id}/block", {"reason": "spam", "back": f"/tickets/{ref}"})
    assert "1 open ticket(s) closed" in _flash(response)
    assert ticket_row(settings, ref).status == "closed"
    assert "blocked" in engineer.get(f"/tickets/{ref}").text


def test_a_blocked_contact_is_kept_on_record_but_gets_no_acknowledgement_page_or_clock(engineer, settings):
    ref = ingest(bo_discord(), live=False, settings=settings).ref
    contact_id = ticket_row(settings, ref).contact_id
    engineer.post(f"/contacts/{contact_id}/block", {"reason": "abuse", "back": f"/tickets/{ref}"})
    later = ingest(bo_discord(external_id="1180000000000000077", conversation_key="elsewhere",
                              text="the whole site is down, outage for everyone"), settings=settings)
    assert later.created_ticket and later.outbox == []  # no acknowledgement, no page
    ticket = ticket_row(settings, later.ref)
    assert ticket.status == "closed" and ticket.sla_next_at is None
    with transaction(settings.db_url) as session:
        assert session.execute(select(func.count()).select_from(Outbox).where(Outbox.ticket_id == ticket.id)).scalar() == 0


def test_the_ticket_page_shows_its_page_and_acknowledging_it_there_stops_paging(cm, settings):
    ref = ingest(bo_discord(text="the whole site is down, outage for everyone, nobody can log in"), settings=settings).ref
    before = cm.get(f"/tickets/{ref}").text
    assert 'id="ticket-alert"' in before and "acknowledged by" not in before and 'id="alert-ack"' in before
    response = cm.post(f"/tickets/{ref}/alert/ack", {})
    assert "acknowledged: paging stopped" in _flash(response)
    after = cm.get(f"/tickets/{ref}").text
    assert f"acknowledged by {USERS['community_manager']}" in after and 'id="alert-ack"' not in after
    assert "already acknowledged" in _flash(cm.post(f"/tickets/{ref}/alert/ack", {}))


def test_email_html_is_sanitized_and_remote_images_wait_for_a_click(cm, settings):
    hostile = ('<p onclick="alert(1)" style="position:fixed;top:0">Hello <b>there</b></p><script>alert(2)</script>'
               '<a href="javascript:alert(3)">click</a><img src="https://tracker.example/pixel.gif">'
               '<style>body{display:none}</style><iframe src="https://evil.example"></iframe>')
    ref = ingest(ada_email(html=hostile), live=False, settings=settings).ref
    response = cm.get(f"/tickets/{ref}")
    page = response.text
    html = page[page.index('<div class="mail-html">'):page.index("<details><summary>Plain text")]
    assert "<b>there</b>" in html
    for bad in ("onclick", "<script", "javascript:", "tracker.example", "<style", "position:fixed", "<iframe"):
        assert bad not in html
    assert "1 remote image(s) not loaded" in page
    assert "https:" not in response.headers["content-security-policy"]
    shown = cm.get(f"/tickets/{ref}?images=1")
    assert "https://tracker.example/pixel.gif" in shown.text
    assert "img-src 'self' https:" in shown.headers["content-security-policy"]
    assert "script-src 'self'" in shown.headers["content-security-policy"]


# dashboard and operations -----------------------------------------------------------------


def test_the_dashboard_shows_no_data_rather_than_a_made_up_figure(lead, settings):
    page = lead.get("/dashboard").text
    assert page.count("no data") == 8  # every KPI (documentation coverage, accurate solutions), before the first ticket
    assert "no survey responses recorded yet" in page


def test_the_dashboard_computes_kpis_from_tickets(lead, settings):
    fast = ingest(ada_email("k1@x"), live=False, settings=settings).ref
    slow = ingest(bo_discord(), live=False, settings=settings).ref
    with transaction(settings.db_url) as session:
        for ref, hours in ((fast, 1), (slow, 3)):
            ticket = session.get(Ticket, int(ref[5:]))
            ticket.first_responded_at = ticket.created_at + timedelta(hours=hours)
            ticket.first_response_due_at = ticket.created_at + timedelta(hours=2)
    page = lead.get("/dashboard").text
    kpi = re.search(r'data-kpi="first_response">.*?<p class="value">([^<]+)</p>', page, re.S).group(1)
    assert kpi.strip() == "2.0 h"  # (1 h + 3 h) / 2
    sla = re.search(r'data-kpi="sla_first_response">.*?<p class="value">([^<]+)</p>', page, re.S).group(1)
    assert sla.strip() == "50.0 %"
    assert re.search(r'data-kpi="satisfaction">.*?<p class="value">no data</p>', page, re.S)
    assert "<svg" in page and "email (1)" in page and "discord (1)" in page


def test_the_dashboard_exports_csv(lead, settings):
    ingest(ada_email(), live=False, settings=settings)
    kpis = lead.get("/dashboard/kpis.csv")
    assert kpis.headers["content-type"].startswith("text/csv")
    rows = kpis.text.splitlines()
    assert rows[0].startswith("kpi,value,unit,target") and any(r.startswith("satisfaction,,%") for r in rows)
    volume = lead.get("/dashboard/volume.csv").text.splitlines()
    assert volume[0] == "day,dimension,value,tickets" and any(",channel,email,1" in r for r in volume)


def test_quarantined_messages_can_be_released_or_discarded(engineer, settings):
    from connectors.base import Inbound

    good = Inbound(channel="api", external_id="q-1", text="released text", author_id="z@x", author_handle="z")
    import json

    with transaction(settings.db_url) as session:
        session.add(Quarantine(channel="api", external_id="q-1", reason="database was down",
                               payload=json.dumps(good.to_dict(), default=str)))
        session.add(Quarantine(channel="email", external_id=None, reason="not RFC 822", payload="garbage <b>"))
    page = engineer.get("/operations").text
    assert "database was down" in page and "garbage &lt;b&gt;" in page
    with transaction(settings.db_url) as session:
        ids = dict(session.execute(select(Quarantine.reason, Quarantine.id)).all())
    assert "is not a message" in _flash(engineer.post(f"/operations/quarantine/{ids['not RFC 822']}/release"))
    assert "staged again" in _flash(engineer.post(f"/operations/quarantine/{ids['database was down']}/release"))
    engineer.post(f"/operations/quarantine/{ids['not RFC 822']}/discard")
    assert "Nothing in quarantine" in engineer.get("/operations").text
    from storage.models.intake import InboundQueue
    from support.intake import staging as intake

    with transaction(settings.db_url) as session:
        staged = session.execute(select(InboundQueue.id).where(InboundQueue.external_id == "q-1")).scalars().all()
    intake.process(list(staged), settings)
    with transaction(settings.db_url) as session:
        assert session.execute(select(Message.text).where(Message.external_id == "q-1")).scalar() == "released text"


def test_a_failed_outbox_row_can_be_retried(engineer, settings):
    ref = ingest(ada_email(), live=False, settings=settings).ref
    now = utcnow()
    with transaction(settings.db_url) as session:
        session.add(Outbox(ticket_id=int(ref[5:]), kind="reply", channel="email", idempotency_key="reply:fail-1",
                           payload={"text": "hi"}, status="failed", attempts=8, last_error="550 mailbox unavailable",
                           created_at=now, updated_at=now))
    assert "550 mailbox unavailable" in engineer.get("/operations").text
    with transaction(settings.db_url) as session:
        row_id = session.execute(select(Outbox.id).where(Outbox.idempotency_key == "reply:fail-1")).scalar_one()
    assert "queued again" in _flash(engineer.post(f"/operations/outbox/{row_id}/retry"))
    with transaction(settings.db_url) as session:
        row = session.get(Outbox, row_id)
        assert (row.status, row.attempts, row.idempotency_key) == ("queued", 0, "reply:fail-1")
