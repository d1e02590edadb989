"""Templates as data (SQLite, then PostgreSQL): leads edit response templates, unknown
variables are refused at save, the composer fills them, and issue templates make the
acknowledgement ask for what a first message lacks."""

from __future__ import annotations

from sqlalchemy import select

from connectors.base import Inbound
from storage.db import transaction
from storage.models.delivery import Outbox
from support.intake.ingest import ingest
from support.kb import responses, seed
from tests.cast import ada_email
from tests.test_kb import api

LEAD, ENGINEER = "lena.lead@trkv.test", "eli.engineer@trkv.test"


def test_the_five_canned_replies_are_seed_templates(settings):
    with api(settings, LEAD, "lead") as lead:
        names = [t["name"] for t in lead.get("/api/templates", params={"kind": "response"}).json()["items"]]
    assert names == ["thanks_investigating", "need_details", "fixed", "feature_logged", "docs_pointer"]


def test_leads_save_templates_with_variables_and_unknown_ones_are_refused(settings):
    seed.load(settings)
    with api(settings, LEAD, "lead") as lead, api(settings, ENGINEER, "engineer") as engineer:
        body = {"name": "export_help", "body": "Hi {name}, see {kb:export-not-working} ({ref}). {agent}"}
        assert engineer.post("/api/templates", json=body).status_code == 403
        made = lead.post("/api/templates", json=body)
        assert made.status_code == 201 and made.json()["usage_count"] == 0
        bad = lead.post("/api/templates", json={"name": "typo", "body": "Hi {nmae}"})
        assert bad.status_code == 422 and "{nmae}" in str(bad.json()["detail"])
        gone = lead.post("/api/templates", json={"name": "gone", "body": "See {kb:no-such-article}"})
        assert gone.status_code == 422 and "no-such-article" in str(gone.json()["detail"])
        short = lead.post("/api/templates", json={"name": "export_help", "channel": "x", "body": "See {kb:export-not-working}"})
        assert short.json()["x_body"] == "See {kb:export-not-working}"
    filled = dict((k, text) for k, _, text in responses.choices(settings, name="Ada", ref="TRKV-9", agent="Lena",
                                                                   channel="email"))
    assert filled["export_help"] == f"Hi Ada, see {settings.public_url.rstrip('/')}/kb/export-not-working (TRKV-9). Lena"
    on_x = dict((k, text) for k, _, text in responses.choices(settings, name="Ada", ref="TRKV-9", agent="L", channel="x"))
    assert on_x["export_help"] == f"See {settings.public_url.rstrip('/')}/kb/export-not-working"


def test_a_bug_report_acknowledgement_asks_for_what_the_message_lacks(settings):
    report = ada_email("bug-1@mail.example", subject="Crash", hints={"category": "bug_report"},
                       text="The app crashes in Firefox when I click Export.")
    ref = ingest(report, settings=settings).ref
    with transaction(settings.db_url) as session:
        ack = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalar_one().payload["text"]
    assert ref in ack
    assert "Which TRKV app version are you on?" in ack
    assert "Which browser" not in ack and "What steps" not in ack  # Firefox and "click" answer them
    checklist = responses.checklist(settings, "bug_report", report.text)
    assert [(c["key"], c["present"]) for c in checklist] == [("steps", True), ("version", False), ("browser", True)]


def test_an_edited_issue_template_shapes_the_next_acknowledgement(settings):
    """Acknowledgements read the templates again once they change (on PostgreSQL they are kept
    between messages while the templates' version, read with each message, stays the same)."""
    def ack_of(n: int) -> str:
        sender = f"user{n}@example.com"  # one acknowledgement per sender and window: a sender each
        ref = ingest(Inbound(channel="email", external_id=f"bug-{n}@mail.example", author_id=sender, author_handle=sender,
                             author_email=sender, subject="Crash", hints={"category": "bug_report"},
                             text="The app crashes in Firefox when I click Export."), settings=settings).ref
        with transaction(settings.db_url) as session:
            rows = session.execute(select(Outbox).where(Outbox.kind == "ack")).scalars().all()
        return next(r.payload["text"] for r in rows if ref in r.payload["text"])

    assert "Which TRKV app version are you on?" in ack_of(1)
    responses.save(settings, name="issue_bug_report", kind="issue", author=LEAD,
                   body="plan | Which plan is your workspace on? | free, team, enterprise")
    second = ack_of(2)
    assert "Which plan is your workspace on?" in second and "Which TRKV app version" not in second
