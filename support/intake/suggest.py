"""Triage suggestions for inbound messages, by (channel, external id).

Ingest, the staging worker, bulk import and the follow-up re-triage all ask here, so
the model runs before a write transaction and once per message.
"""

from __future__ import annotations

from connectors.base import Inbound
from triage.types import Suggestion, SuggestionsByKey, TriageInput


def suggest_for(inbounds: list[Inbound]) -> dict[tuple[str, str], Suggestion]:
    """Triage suggestions by (channel, external id). Callers compute them before their
    write transaction, so that SQLite's write lock is not held while the model runs."""
    from triage.classifier import suggest_batch  # scikit-learn loads on the first message, not at start-up

    suggestions = suggest_batch(
        [TriageInput(text=i.text, channel=i.channel, subject=i.subject, hints=i.hints) for i in inbounds]
    )
    # pickled compactly: the import workers send it back to the writer
    return SuggestionsByKey(((i.channel, i.external_id), s) for i, s in zip(inbounds, suggestions, strict=True))
