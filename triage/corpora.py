"""Readers for the public corpora that triage is measured on (shared/data), each cut into
dev and test parts by `triage.splits`. Used by bench/ and tests/; the hub never needs them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from triage import splits
from triage.types import TriageInput

BITEXT = ("bitext-customer-support", "Bitext_Sample_Customer_Support_Training_Dataset.csv")
HADOOP = ("hadoop-jira", "hadoop_bugs_train.csv")
X_MENTION = {"x_kind": "mention", "mentions_bot": "true"}

# A team adopting the hub for a shop maps its request types onto the hub's categories once:
# things that are broken are bug reports, feedback is general, questions a policy page answers
# are documentation, everything an agent has to do for the customer is a support question.
BITEXT_CATEGORY = {
    "payment_issue": "bug_report", "registration_problems": "bug_report",
    "complaint": "general", "review": "general",
    "check_refund_policy": "documentation", "check_cancellation_fee": "documentation",
    "check_payment_methods": "documentation", "delivery_options": "documentation", "delivery_period": "documentation",
}


def _rows(root: Path, parts: tuple[str, str]) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with root.joinpath(*parts).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def bitext(root: Path, part: str) -> list[dict[str, Any]]:
    """Bitext requests of one part as training records (category only), sent as X mentions."""
    return [{"text": r["instruction"], "subject": None, "channel": "x", "hints": dict(X_MENTION),
             "category": BITEXT_CATEGORY.get(r["intent"], "support_question"), "priority": None,
             "intent": r["intent"], "source": f"bitext:{r['instruction']}"}
            for r in _rows(root, BITEXT) if splits.part_of(r["instruction"]) == part]


def hadoop(root: Path, part: str) -> list[dict[str, Any]]:
    """Hadoop Jira issues of one part (keyed by issue id), with `critical` for Blocker/Critical."""
    return [{"text": r["Description"], "subject": r["Summary"], "channel": "", "hints": {},
             "critical": r["Priority"] in ("Blocker", "Critical"), "source": f"jira:{r['Issue id']}"}
            for r in _rows(root, HADOOP) if splits.part_of(r["Issue id"]) == part]


def inputs(records: list[dict[str, Any]]) -> list[TriageInput]:
    return [TriageInput(text=r["text"], channel=r["channel"], subject=r["subject"], hints=r["hints"]) for r in records]
