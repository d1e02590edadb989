"""The triage model: what an agent sees on a ticket, and the quality gates on data.

Gates are checks on data (the seed's held-out split, real public corpora), never on time.
"""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import pytest

from tests.shared_data import shared_data
from triage import store, training
from triage.pipeline import TriageModel
from triage.rules import critical_reasons
from triage.types import Suggestions, SuggestionsByKey, TriageInput


@pytest.fixture(scope="module")
def model() -> TriageModel:
    return store.seed_model()


def _one(model: TriageModel, text: str, channel: str = "x", subject: str | None = None, **hints: str):
    return model.predict([TriageInput(text=text, channel=channel, subject=subject, hints=hints)])[0]


def test_the_shipped_model_meets_the_critical_bar_on_the_held_out_split(model):
    held_out = training.score_held_out(model)
    assert held_out["critical"]["recall"] >= 0.95
    assert held_out["critical"]["precision"] >= 0.8


def test_the_held_out_split_is_never_trained_on():
    train = {(r["text"], r["subject"]) for r in training.load_seed("train")}
    test = training.load_seed("test")
    assert len(training.load_seed()) >= 1500 and len(test) >= 300
    assert not [r for r in test if (r["text"], r["subject"]) in train]
    assert not {r["situation"] for r in test} & {r["situation"] for r in training.load_seed("train")}


def test_the_seed_covers_every_channel_priority_and_category():
    rows = training.load_seed()
    assert {r["channel"] for r in rows} == {"email", "discord", "x"}
    assert {r["priority"] for r in rows} == {"critical", "high", "medium", "low"}
    assert {r["category"] for r in rows} == {"bug_report", "feature_request", "support_question", "documentation",
                                            "general", "no_action"}
    assert max(len(r["text"]) for r in rows if r["channel"] == "x") <= 280
    assert all(r["subject"] for r in rows if r["channel"] == "email")


@pytest.mark.parametrize("text", [
    "site down",
    "the site is down for everyone, 502 on every page",
    "can't log in anywhere, web or phone",
    "nobody can log in since 9am",
    "all my data is gone after the update!!",
    "I leaked our API key in a public repo",
    "502 for everyone in the office",
    "trkv is dwn again?? cant login",
    "our whole workspace got wiped overnight",
    "sevice is down, nothing loads",
    "Security issue: I can see tasks from a different company's workspace",
    "my account was hacked and someone is deleting projects",
])
def test_outages_security_issues_and_data_loss_are_critical_with_the_reason_shown(model, text):
    suggestion = _one(model, text)
    assert suggestion.priority == "critical"
    assert suggestion.evidence["critical"], "the reason a ticket is Critical is shown"
    assert not suggestion.needs_triage


@pytest.mark.parametrize(("text", "rule"), [
    ("The sync server runs out of memory every night and gets OOM-killed", "outage"),
    ("Connection leak: the API gateway is not releasing http connections, the pool is exhausted", "outage"),
    ("RPC server throws a NullPointerException during startup when auth is enabled", "outage"),
    ("A malformed webhook payload crashes the rpcServer every time", "outage"),
    ("Webhook delivery gets stuck after a token refresh and nothing is sent any more", "outage"),
    ("The 4.2 release build fails on Debian, nobody can install it", "outage"),
    ("v3 of the SDK breaks backward compatibility with every existing integration", "outage"),
    ("The CSV import duplicates records from the previous file", "data_loss"),
    ("Sync moves deleted tasks to the archive rather than deleting them", "data_loss"),
    ("Our tokens were leaked in plain text in the export", "security"),
])
def test_an_engineers_words_for_an_outage_data_loss_or_a_leak_are_critical_too(text, rule):
    """Customers who build on the API and self-host write like the people who run servers."""
    reasons = critical_reasons(text)
    assert [r.split(":")[0] for r in reasons] == [rule], reasons


@pytest.mark.parametrize("text", [
    "the sync agent crashes when I open settings",
    "Please document how the build of the mobile app works",
    "Can the release notes mention the new memory settings?",
    "The migration guide for the v3 SDK is missing a compatibility table",
])
def test_an_engineers_everyday_words_are_not_critical(text):
    assert critical_reasons(text) == []


def test_the_rules_read_any_unicode_the_same_way():
    assert critical_reasons("the site\u00a0is\u2003down for everyone") != []  # no-break and em spaces
    assert critical_reasons("Der Server ist ausgefallen \ud800 site is down") != []  # a lone surrogate does not stop them
    assert critical_reasons("día de lanzamiento: all our data is gone 😱") != []


@pytest.mark.parametrize("text", [
    "the status dropdown is cut off at the bottom",
    "down to try the new beta this weekend 🔥",
    "Was the site down last night? Saw a blip at 2am but everything is fine now",
    "Your account is compromised! Verify your wallet at the link below to avoid suspension",
    "Do you have a security whitepaper or SOC 2 docs for our IT department?",
])
def test_lookalikes_of_an_emergency_are_not_critical_rules(text):
    assert critical_reasons(text) == []


def test_a_suggestion_explains_itself_with_the_terms_that_weighed_most(model):
    suggestion = _one(model, "Would love a proper dark mode for the whole app, please add it!")
    assert suggestion.category == "feature_request" and suggestion.priority == "low"
    assert suggestion.evidence["category"] and all(isinstance(t, str) for t in suggestion.evidence["category"])
    assert 0 < suggestion.confidence <= 1


def test_suggestions_travel_between_processes_as_rows_and_come_back_the_same(model):
    """Import workers send their suggestions back pickled: as rows, a quarter fewer bytes."""
    texts = ["The whole site is down, every page answers 502", "How do I export my projects to CSV?",
             "you guys rock, fixed my issue in 5 minutes 🙌", "hmm, about the thing from before"] * 10
    batch = Suggestions(model.predict([TriageInput(text=t, channel="email", subject="Hi") for t in texts]))
    by_key = SuggestionsByKey((("email", f"<{n}@example.com>"), s) for n, s in enumerate(batch))
    for sent, plain in ((batch, list(batch)), (by_key, dict(by_key))):
        data = pickle.dumps(sent)
        assert pickle.loads(data) == plain and type(pickle.loads(data)) is type(sent)
        assert len(data) < 0.85 * len(pickle.dumps(plain))


def test_praise_and_spam_need_no_action_and_start_no_urgent_clock(model):
    for text in ("you guys rock, fixed my issue in 5 minutes 🙌", "Buy 10k real followers for just $9.99!!! DM now"):
        suggestion = _one(model, text)
        assert (suggestion.category, suggestion.priority) == ("no_action", "low")


def test_below_the_confidence_threshold_a_ticket_needs_triage(model):
    item = TriageInput(text="hmm, about the thing from before", channel="email", subject="question")
    model.confidence_threshold = 1.01
    try:
        assert model.predict([item])[0].needs_triage
        model.confidence_threshold = 0.0
        assert not model.predict([item])[0].needs_triage
    finally:
        model.confidence_threshold = 0.6


@pytest.mark.parametrize("text", [
    # ambiguous between a bug and a wish (P(bug) 0.45-0.54 and 0.24-0.26 without a channel, in
    # both the format-1 and the format-2 seed model); a text the model is 95 % sure of is not moved
    "export in reports with big projects is not great",
    "the export button in reports should handle big projects",
])
def test_the_discord_channel_is_a_hint_for_the_category(model, text):
    in_bugs = _one(model, text, "discord", category="bug_report", discord_channel="bug-reports")
    in_ideas = _one(model, text, "discord", category="feature_request", discord_channel="feature-requests")
    assert in_bugs.category == "bug_report" and in_ideas.category == "feature_request"


def test_a_saved_model_loads_without_unpickling_and_predicts_the_same(model, tmp_path):
    path = tmp_path / "m.skops"
    model.save(path)
    import skops.io as sio

    assert sio.get_untrusted_types(file=path) == []
    items = [TriageInput(text=r["text"], channel=r["channel"], subject=r["subject"], hints=r["hints"])
             for r in training.load_seed("test")[:40]]
    assert TriageModel.load(path).predict(items) == model.predict(items)


def test_eval_scores_the_shipped_model_on_a_jsonl_file_and_prints_only_json(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from trkv.cli import main

    monkeypatch.setenv("TRKV_HOME", str(tmp_path / "home"))
    path = tmp_path / "held_out.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in training.load_seed("test")))
    result = CliRunner().invoke(main, ["eval", "--test", str(path), "--text", "subject,text", "--label", "priority",
                                       "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert {"macro_f1", "per_group", "per_class", "critical"} <= set(figures)
    assert figures["critical"]["recall"] >= 0.95
    assert Path(figures["chart"]).read_text().startswith("<!doctype html>")


def test_eval_trains_one_model_per_group_from_a_csv_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from trkv.cli import main

    monkeypatch.setenv("TRKV_HOME", str(tmp_path / "home"))
    rows = training.load_seed()
    for name, split in (("train.csv", "train"), ("test.csv", "test")):
        with (tmp_path / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["channel", "subject", "text", "kind"])
            writer.writeheader()
            for r in rows:
                if r["split"] == split:
                    writer.writerow({"channel": r["channel"], "subject": r["subject"] or "", "text": r["text"],
                                     "kind": {"bug_report": "bug", "feature_request": "idea"}.get(r["category"], "")})
    result = CliRunner().invoke(main, ["eval", "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
                                       "--text", "text", "--label", "kind", "--group", "channel", "--train-per-group",
                                       "--map", "bug=bug_report,idea=feature_request", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures["per_group"]) == {"email", "discord", "x"}
    assert set(figures["per_class"]) == {"bug_report", "feature_request"}
    assert figures["macro_f1"] > 0.6


def test_eval_rejects_a_missing_column_with_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from trkv.cli import main

    path = tmp_path / "t.csv"
    path.write_text("title,label\nhello,bug\n")
    result = CliRunner().invoke(main, ["eval", "--test", str(path), "--text", "body", "--label", "label"])
    assert result.exit_code != 0 and "no column body" in result.output


def test_nlbse_issues_cross_validated_per_repository_reach_a_macro_f1_of_0_77():
    """Real GitHub issues (bug / feature / question), 5-fold CV per repository."""
    from triage import evaluate

    path = shared_data("nlbse24-issues", "issues_train.csv")
    result = evaluate.run(path, path, ["title", "body"], "label", "repo", True,
                          {"bug": "bug_report", "feature": "feature_request", "question": "support_question"})
    assert len(result["per_group"]) == 5
    assert result["macro_f1"] >= 0.77


def test_hadoop_jira_whole_file_critical_recall_does_not_fall_below_the_last_round():
    """A regression guard, not a generalisation figure: the whole Jira file includes the part
    earlier rules were written against. The held-out figure is in test_triage_rules.py."""
    from triage import evaluate

    path = shared_data("hadoop-jira", "hadoop_bugs_train.csv")
    result = evaluate.run(path, None, ["Summary", "Description"], "Priority", None, False,
                          {"Blocker": "critical", "Critical": "critical", "Major": "high", "Minor": "medium",
                           "Trivial": "low"}, "priority")
    assert result["critical"]["support"] > 100
    assert result["critical"]["recall"] >= 0.3


def test_a_message_the_model_has_no_words_for_needs_triage_instead_of_a_guess_from_the_channel():
    from triage.classifier import suggest
    from triage.types import TriageInput

    unknown = suggest(TriageInput(text="Wie ändere ich die Rechnungsadresse?", channel="email", subject="Grüße"))
    assert unknown.needs_triage
    known = suggest(TriageInput(text="The CSV export times out after a minute", channel="email", subject="Export fails"))
    assert any(not term.startswith("hint_") for term in known.evidence["category"])  # its own words weighed in


def test_a_promoted_model_of_an_older_format_is_set_aside_for_the_seed_model(model, tmp_path, monkeypatch, caplog):
    """A model saved before the features changed would see other columns: it is not loaded
    (the seed model answers, with the reason logged) rather than crashing or mis-scoring."""
    from triage import pipeline

    monkeypatch.setattr(pipeline, "FORMAT", pipeline.FORMAT - 1)
    old = TriageModel(model.featurizer, model.heads, version="team-old", critical_threshold=model.critical_threshold)
    store.save(tmp_path, old, {"version": "team-old"})
    store.promote(tmp_path, "team-old")
    monkeypatch.undo()
    with caplog.at_level("ERROR", logger="triage.store"):
        active = store.load_active(tmp_path)
    assert active.version == store.seed_version()
    assert "team-old" in caplog.text and "format" in caplog.text
    assert active.predict([TriageInput(text="the site is down for everyone", channel="x")])[0].priority == "critical"


def test_the_fast_word_features_are_sklearns_tfidf_numbers(model):
    """Word 1-2-grams are counted in numpy from a per-token cache; what the model sees must be
    exactly what the fitted TfidfVectorizer computes, for any text (unknown words, punctuation,
    non-ASCII, empty)."""
    from triage.pipeline import doc_of

    docs = [doc_of(r) for r in training.load_seed("test")] + [
        "", " | ", "hint_channel_x | ", "Straße İstanbul ΣΑΣ don't “quoted” x—y 502!! site-down?? e.g. v2.1",
        "hint_channel_email | export export export, the export button; export-button",
    ]
    ours = model.featurizer.transform_words(docs)
    theirs = model.featurizer.words.transform(docs)
    ours.sort_indices()
    assert abs(ours - theirs).max() < 1e-6
    # and the same again from a warm cache, in another order
    again = model.featurizer.transform_words(docs[::-1])
    again.sort_indices()
    assert abs(again - theirs[::-1]).max() < 1e-6


def test_a_document_is_split_once_into_the_same_tokens_as_before():
    """Triage splits each document once for the word features (all its tokens) and sentiment
    (its text's); both must be what splitting the document and its text would give, whatever
    the channel or text."""
    from triage.features import Tokens, document

    docs = [document("Site DOWN  for\tall | of us", "x", None, {"x_kind": "mention"}), " | ", "", "no bar here",
            document("a | b", "weird | channel", "Subject | line", {"category": "Bug Report"}),
            "hint_channel_x hint_x | hint_y | text"]
    tokens = Tokens(docs)
    assert tokens.whole == [d.split() for d in docs]
    assert tokens.text == [d.split(" | ", 1)[-1].split() for d in docs]
    assert tokens.hints == [d.count("hint_", 0, d.find(" | ") + 1) for d in docs]


def test_one_off_words_do_not_grow_a_long_running_workers_caches(model):
    """Every message brings tokens never seen again (order numbers, names, typos). Cached, they
    grew a worker by ~1.5 KB a message, +270 MB an hour at 50 messages/s; words are now kept
    from their second sighting on, and a message's features do not depend on what was cached."""
    from triage import sentiment

    featurizer = model.featurizer

    def batch(start: int) -> list[str]:
        return [f"hint_channel_email | order ZX{n:07d}Q never arrived, ref qq{n:06d}kk and nobody answers"
                for n in range(start, start + 500)]

    first = featurizer.transform(batch(0))
    for start in (500, 1_000):  # the everyday words come back and are kept
        featurizer.transform(batch(start))
        sentiment.compounds(batch(start))
    words, chars, vader = featurizer._counter, featurizer.chars, sentiment._vader()
    sizes = (len(words._ids), len(chars._ids), len(vader._word))
    assert min(sizes[:2]) > 0
    for start in range(1_500, 6_000, 500):  # 9,000 more one-off tokens
        featurizer.transform(batch(start))
        sentiment.compounds(batch(start))
    assert (len(words._ids), len(chars._ids), len(vader._word)) == sizes
    # the same features whether a batch's words were first seen, seen again, or cached
    again, cached_now = featurizer.transform(batch(0)), featurizer.transform(batch(0))
    assert abs(first - again).max() < 1e-6 and abs(again - cached_now).max() < 1e-6


def test_a_single_message_s_character_counts_are_scipy_s_whole_product_to_the_bit(monkeypatch):
    """One message takes a product over the columns it uses (no clearing of two arrays as
    long as the feature space, a worker's page faults); a batch takes scipy's whole product.
    Both must give the same matrix, entries in the same order, so every later sum is the same."""
    import numpy as np

    from triage import features

    hasher = features.CharHasher(ngram_range=(2, 5), n_features=2**18)
    one = ["Export to CSV fails with a timeout — café, naïve, 😡 and a very-long-hyphenated-word",
           "second message: login loops after the 2FA prompt"]
    few = hasher._counts(one)
    monkeypatch.setattr(features, "_FEW_GRAMS", 2**40)  # every call takes the whole product
    whole = hasher._counts(one)
    assert few.shape == whole.shape == (2, 2**18)
    assert np.array_equal(few.indptr, whole.indptr)
    assert np.array_equal(few.indices, whole.indices)
    assert np.array_equal(few.data, whole.data)
    assert few.sum() > 100
