"""The auto-responder never answers robots, and still answers people.

Robots: bounces, delivery/complaint/read reports, auto-replies and list managers, from
the public corpora (flufl.bounce's real bounces, the shared email-* collections labelled
in tests/fixtures/mail/shared-labels.tsv) and from our own fixtures written from RFC
3464, 3834, 5965, 6522 and common mail systems' formats. Each is decided as
`trkv mail parse FILE --json` decides (support.mailcheck.check); a few go through the
real command. Figures per dev/test split are bench/mail_robots.py's.
"""

from __future__ import annotations

import json

import pytest

from support.intake.mailcheck import check
from tests.mail_corpora import FIXTURES, fixture_samples, shared_samples
from tests.shared_data import shared_data
from tests.test_mail_cli import mail_parse

OUR_ADDRESS = "support@trkv.example"


@pytest.fixture(autouse=True)
def our_address(monkeypatch, tmp_path):
    """The fixtures are written to support@trkv.example; no database is used."""
    from trkv.settings import reset_settings

    monkeypatch.setenv("TRKV_SUPPORT_ADDRESS", OUR_ADDRESS)
    monkeypatch.setenv("TRKV_HOME", str(tmp_path / "home"))
    reset_settings()
    yield
    reset_settings()


def decisions(samples, label):
    """(name, would_acknowledge, reason) of each sample with this label that is mail."""
    out = []
    for sample in samples:
        if sample.label != label:
            continue
        try:
            result = check(sample.path.read_bytes())
        except ValueError:
            continue
        out.append((f"{sample.corpus}/{sample.name}", result["would_acknowledge"], result["reason"]))
    return out


def test_no_public_bounce_report_or_auto_reply_is_acknowledged():
    robots = decisions([s for s in fixture_samples() if s.corpus == "flufl-bounce"], "robot")
    shared_data()  # the shared corpora: skip or fail as the other corpus tests do
    robots += decisions(shared_samples(), "robot")
    assert len(robots) >= 130
    assert [r for r in robots if r[1]] == []


def test_every_persons_mail_in_the_shared_corpora_is_acknowledged():
    shared_data()
    people = decisions(shared_samples(), "person")
    people += decisions([s for s in fixture_samples() if s.corpus == "flufl-bounce"], "person")
    assert len(people) >= 110
    assert [p for p in people if not p[1]] == []


def test_every_robot_we_wrote_from_the_rfcs_and_mail_systems_is_not_acknowledged():
    robots = decisions([s for s in fixture_samples() if s.corpus == "own-robots"], "robot")
    assert len(robots) >= 50
    assert [r for r in robots if r[1]] == []


def test_people_who_mention_failures_absences_or_auto_replies_are_acknowledged():
    people = decisions([s for s in fixture_samples() if s.corpus == "own-people"], "person")
    assert len(people) >= 12
    assert [p for p in people if not p[1]] == []


@pytest.mark.parametrize("name, reason", [
    ("daemon-display-empty-address.eml", "sender is MAILER-DAEMON"),
    ("exim-stripped-headers.eml", "sender is mailer.daemon"),
    ("gateway-notice-antivirus.eml", "delivery failure notice"),
    ("arf-wrapped-in-mixed.eml", "message/feedback-report part"),
    ("mdn-read-receipt.eml", "message/disposition-notification part"),
    ("listserv-rejected.eml", "list manager"),
    ("mailman-moderation.eml", "list manager"),
    ("carrier-post-master.eml", "postmaster sender"),
    ("x-vacation.eml", "X-Vacation"),
    ("x-loop.eml", "X-Loop"),
    ("subject-de-abwesenheitsnotiz.eml", "auto-reply subject"),
    ("own-address-loop.eml", "mail loop"),
])
def test_each_class_the_old_detector_missed_is_named_in_the_reason(name, reason):
    result = check((FIXTURES / "robots" / name).read_bytes())
    assert result["would_acknowledge"] is False
    assert reason in result["reason"], result["reason"]


def test_a_bounce_without_report_structure_still_names_the_returned_mail():
    """Plain-text bounces feed the bounce matcher (support/bounces.py) as DSNs do."""
    result = check((FIXTURES / "robots" / "postfix-mixed-no-report.eml").read_bytes())
    assert result["message"]["hints"]["bounce_of"] == "ack-15@trkv.example"
    auto_reply = check((FIXTURES / "robots" / "auto-submitted-replied.eml").read_bytes())
    assert "bounce_of" not in auto_reply["message"]["hints"]  # an absence does not fail our delivery


@pytest.mark.parametrize("folder, name, acknowledged", [
    ("robots", "daemon-display-empty-address.eml", False),
    ("robots", "subject-ja-jidou-outou.eml", False),
    ("people", "delivery-failed-order.eml", True),
    ("people", "out-of-office-tomorrow.eml", True),
])
def test_trkv_mail_parse_decides_the_same_and_keeps_its_json_contract(tmp_path, folder, name, acknowledged):
    result = mail_parse(FIXTURES / folder / name, tmp_path, env={"TRKV_SUPPORT_ADDRESS": OUR_ADDRESS})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["would_acknowledge", "reason", "message"]
    assert data["would_acknowledge"] is acknowledged


def test_a_report_whose_report_type_is_an_rfc2231_parameter_is_still_not_acknowledged():
    raw = (b"From: fbl@isp.example\r\nSubject: report\r\nMessage-ID: <r2231@isp.example>\r\n"
           b"Content-Type: multipart/report; report-type*=us-ascii'en'feedback-report; boundary=x\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n--x--\r\n")
    result = check(raw)
    assert result["would_acknowledge"] is False and "multipart/report" in result["reason"]
    assert "bounce_of" not in result["message"]["hints"]  # a complaint is not a bounce of our mail
