"""Critical rules added in the second round, each with what it must catch and what it must
not, and the Hadoop Jira figure on the test part of `triage.splits` (rules written against
the dev part only; the first round's rules saw the whole file, see bench/triage.py notes)."""

from __future__ import annotations

import csv

import pytest

from tests.shared_data import shared_data
from triage import splits, store
from triage.rules import critical_reasons
from triage.types import TriageInput


@pytest.mark.parametrize(("text", "rule"), [
    ("After the upgrade our backup files cannot be restored", "data_loss"),
    ("Since 2.3 our archives can't be decompressed any more", "data_loss"),
    ("The export bucket is unreadable since this morning", "data_loss"),
    ("The token refresh change results in authentication failures for every SDK client", "outage"),
])
def test_stored_data_that_cannot_be_read_back_and_failing_sign_ins_are_critical(text, rule):
    assert [r.split(":")[0] for r in critical_reasons(text)] == [rule]


@pytest.mark.parametrize("text", [
    "the unreadable font on the login page is hard to see",
    "files cannot be uploaded larger than 2GB, can you raise the limit?",
    "we log auth failures to the audit log, where can I download it?",
    "I can't read the docs page on my phone, the text is too small",
    "Your handwriting on the whiteboard export is unreadable lol",
])
def test_lookalikes_of_unreadable_data_and_sign_in_failures_are_not_critical(text):
    assert critical_reasons(text) == []


def test_hadoop_jira_critical_on_the_test_part_reaches_recall_0_2_at_precision_0_12():
    path = shared_data("hadoop-jira", "hadoop_bugs_train.csv")
    csv.field_size_limit(1 << 30)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if splits.part_of(r["Issue id"]) == "test"]
    suggestions = store.seed_model().predict([TriageInput(text=r["Description"], channel="", subject=r["Summary"])
                                              for r in rows])
    truth = [r["Priority"] in ("Blocker", "Critical") for r in rows]
    flagged = [s.priority == "critical" for s in suggestions]
    hits = sum(t and f for t, f in zip(truth, flagged, strict=True))
    assert sum(truth) >= 40
    assert hits / sum(truth) >= 0.2
    assert hits / sum(flagged) >= 0.12
