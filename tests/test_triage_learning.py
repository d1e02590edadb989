"""Triage learns from the team and reacts to follow-ups, on a real database."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session_factory
from storage.models.delivery import Outbox
from storage.models.tickets import Ticket, TicketEvent
from support import accounts
from support.intake.ingest import ingest, ingest_batch
from support.retrain import corrections, retrain
from tests.cast import ada_email, cy_tweet
from tests.conftest import settings_for
from tests.rows import ticket as _ticket
from triage import store, training
from triage.classifier import active_model
from triage.features import document
from triage.types import TriageInput

NOVEL = "the zorblax widget keeps glowing purple on the planner"




def test_a_follow_up_that_changes_the_picture_escalates_the_ticket_to_critical(settings):
    first = ingest(ada_email())
    before = _ticket(settings, first.ticket_id)
    assert before.priority != "critical"
    ingest(ada_email("ada-2@mail.example", "Update: now nobody can log in, the site is down for everyone.",
                     references=["ada-1@mail.example"]))
    ticket = _ticket(settings, first.ticket_id)
    assert ticket.priority == "critical"
    assert any("outage" in reason for reason in ticket.suggestion_evidence["follow_up"])
    assert ticket.first_response_due_at < before.first_response_due_at  # the Critical target is shorter
    with session_factory(settings.db_url)() as session:
        pages = session.execute(select(Outbox).where(Outbox.ticket_id == first.ticket_id, Outbox.kind == "page")).all()
        assert pages, "the escalation pages on-call"


def test_a_calm_follow_up_leaves_the_priority_alone(settings):
    first = ingest(cy_tweet())
    before = _ticket(settings, first.ticket_id).priority
    ingest(cy_tweet("1860000000000000009", "@trkvbot thanks, found it in settings!", conversation_key="1860000000000000001"))
    assert _ticket(settings, first.ticket_id).priority == before


def test_agent_corrections_become_training_data_and_a_retrained_model_is_promoted(monkeypatch, tmp_path, sqlite_url):
    settings = settings_for(monkeypatch, tmp_path, sqlite_url, triage_reload_seconds="0")
    agent = accounts.create_user("eng@trkv.local", "engineer", "pw-0123456789", settings=settings)
    agent_id = agent.id if hasattr(agent, "id") else agent
    texts = [f"{NOVEL} (case {i})" for i in range(6)]
    results = ingest_batch([cy_tweet(f"18600000000000001{i:02d}", text) for i, text in enumerate(texts)])
    before = active_model()
    doc = [TriageInput(text=NOVEL, channel="x")]
    p_before = before.heads["category"].probabilities(before.featurizer.transform([document(NOVEL, "x")]))[0]
    with session_factory(settings.db_url)() as session, session.begin():
        for result in results:
            ticket = session.get(Ticket, result.ticket_id)
            session.add(TicketEvent(ticket_id=ticket.id, kind="triage", field="category",
                                    suggested=ticket.suggested_category, old_value=ticket.category,
                                    new_value="documentation", user_id=agent_id, model_version=ticket.model_version))
            ticket.category = "documentation"
        # An automatic escalation is not a correction.
        session.add(TicketEvent(ticket_id=results[0].ticket_id, kind="triage", field="priority", suggested="low",
                                old_value="low", new_value="critical", user_id=None))

    examples = corrections(settings)
    assert len(examples) == 6 and {e["category"] for e in examples} == {"documentation"}
    assert all(e["text"].startswith(NOVEL) and e["channel"] == "x" for e in examples)
    assert {e["priority"] for e in examples} == {None}  # no agent touched the priority

    outcome = retrain(settings)
    assert outcome.corrections == 6 and outcome.promoted
    assert store.current_version(settings.triage_models_path) == outcome.version

    after = active_model()  # picked up without a restart
    assert after.version == outcome.version != before.version
    assert after.predict(doc)[0].model_version == outcome.version
    p_after = after.heads["category"].probabilities(after.featurizer.transform([document(NOVEL, "x")]))[0]
    column = after.heads["category"].classes.index("documentation")
    assert p_after[column] > p_before[column], "the correction moved the model towards the team's label"


def test_a_candidate_worse_on_the_held_out_split_is_not_promoted():
    incumbent = {"critical": {"recall": 0.97}, "priority": {"macro_f1": 0.8}, "category": {"macro_f1": 0.7}}
    worse = {"critical": {"recall": 0.90}, "priority": {"macro_f1": 0.85}, "category": {"macro_f1": 0.75}}
    ok, reason = training.not_worse(worse, incumbent)
    assert not ok and "critical recall" in reason
    assert training.not_worse(incumbent, incumbent)[0]
