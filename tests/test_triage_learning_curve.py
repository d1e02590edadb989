"""A team adopting the hub in a new domain: its corrections teach the model (Bitext
customer-service requests; corrections from the dev part, scored on the test part)."""

from __future__ import annotations

from bench.triage_learning import correction_pool, score
from tests.shared_data import shared_data
from triage import corpora, training
from triage.pipeline import TriageModel


def test_the_accuracy_in_a_new_domain_rises_with_the_teams_corrections():
    root = shared_data("bitext-customer-support").parent
    pool, test = correction_pool(root), corpora.bitext(root, "test")[::3]
    seed_rows = training.load_seed("train")
    scores = {}
    for n in (0, 100):
        corrections = [{**r, "weight": training.CORRECTION_WEIGHT} for r in pool[:n]]
        scores[n] = score(TriageModel.fit(seed_rows + corrections, version=f"curve-{n}"), test)
    assert scores[100]["accuracy"] >= scores[0]["accuracy"] + 0.2
    assert scores[100]["no_action_errors"] <= scores[0]["no_action_errors"] / 2  # every request needs an answer

