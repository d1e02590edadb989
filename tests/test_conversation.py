"""The ticket page's thread: Discord markup shown as formatting (escaped first, so no
markup of the customer's ever becomes HTML), mentions named, quoted email folded; and
the live-update endpoint's cursor moving when, and only when, something changed."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup

from inbox.app import create_app
from inbox.conversation import discord_markup, fold_html_quote, split_quoted, turns
from support import accounts
from support.intake.ingest import ingest
from support.tickets import actions as ticket_actions
from tests.cast import ada_email, bo_discord

HOSTILE = "<script>alert(1)</script> **<img src=x onerror=alert(2)>** `<b>` [x](javascript:alert(3))"


def test_discord_markup_becomes_formatting_and_customer_html_stays_text():
    html = str(discord_markup("**bold** *it* __under__ ~~gone~~ ||secret|| `a < b`\n> quoted"))
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<u>under</u>" in html
    assert "<s>gone</s>" in html and 'class="spoiler"' in html and "<code>a &lt; b</code>" in html
    assert '<span class="quote">quoted</span>' in html
    hostile = str(discord_markup(HOSTILE))
    assert "<script" not in hostile and "<img" not in hostile and "<b>" not in hostile
    assert "&lt;script&gt;" in hostile and 'href="javascript' not in hostile


def test_mentions_are_named_when_known_and_never_inject():
    html = str(discord_markup("ping <@4021> and <@!77> and <@99>", {"4021": "Marta K.", "77": "<i>Jo</i>"}))
    assert '<span class="mention">@Marta K.</span>' in html
    assert "@&lt;i&gt;Jo&lt;/i&gt;" in html and "<i>" not in html
    assert "@99" in html  # unknown: the id, so an agent can still look it up


def test_links_are_clickable_but_only_http():
    html = str(discord_markup("see https://docs.trkv.test/a?b=1&c=2 and javascript:alert(1)"))
    assert 'href="https://docs.trkv.test/a?b=1&amp;c=2"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert html.count("<a ") == 1


@pytest.mark.parametrize("text, body", [
    ("Works now, thanks!\n\nOn Mon, 2 Dec 2024, Support <s@trkv.test> wrote:\n> try again\n> please", "Works now, thanks!"),
    ("Works now.\nOn Mon, 2 Dec 2024 at 10:04, TRKV Support <support@\ntrkv.test> wrote:\n> try again", "Works now."),
    ("Hello\n\n-----Original Message-----\nFrom: a@b\nSent: Monday\n\nold text", "Hello"),
    ("Short answer\n\n> the whole\n> old mail", "Short answer"),
])
def test_quoted_email_history_is_split_off(text, body):
    assert split_quoted(text)[0] == body and split_quoted(text)[1]


def test_a_reply_between_quoted_lines_is_not_folded_away():
    text = "> your question\nmy answer\n\nthanks"
    assert split_quoted(text) == (text, None)


def test_html_quote_is_folded_only_below_something_written():
    folded = str(fold_html_quote(Markup("<p>Thanks!</p><blockquote><p>old<blockquote>older</blockquote></p></blockquote>")))
    assert folded.startswith("<p>Thanks!</p><details class=\"quoted\">") and folded.endswith("</blockquote></details>")
    only_quote = Markup("<blockquote>old</blockquote>")
    assert fold_html_quote(only_quote) == only_quote


def test_consecutive_messages_by_one_author_form_one_turn():
    messages = [{"direction": d, "author": a} for d, a in (("in", "bo"), ("in", "bo"), ("out", "bo"), ("in", "bo"))]
    assert [len(t["messages"]) for t in turns(messages)] == [2, 1, 1]


def test_the_live_cursor_moves_only_when_something_changes(sqlite_settings):
    accounts.create_user("cm@trkv.test", "community_manager", "correct horse battery", settings=sqlite_settings)
    ref = ingest(ada_email(), live=False, settings=sqlite_settings).ref
    with TestClient(create_app(sqlite_settings)) as client:
        assert client.get("/web/changes").status_code == 401
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": "cm@trkv.test", "password": "correct horse battery", "csrf_token": token})
        inbox = client.get("/web/changes").json()["cursor"]
        ticket = client.get(f"/web/changes?ticket={ref}").json()["cursor"]
        assert client.get(f"/web/changes?since={inbox}").json() == {"cursor": inbox, "changed": False}
        assert client.get(f"/web/changes?ticket={ref}&since={ticket}").json()["changed"] is False

        ticket_actions.add_note(ref, "seen", user_id=None, settings=sqlite_settings)  # the ticket page shows notes
        assert client.get(f"/web/changes?ticket={ref}&since={ticket}").json()["changed"] is True
        other = ingest(bo_discord(), live=False, settings=sqlite_settings).ref  # a new ticket: the inbox moves
        assert client.get(f"/web/changes?since={inbox}").json()["changed"] is True
        assert client.get(f"/web/changes?ticket={other}").status_code == 200
        assert client.get("/web/changes?ticket=TRKV-999999").status_code == 404
        assert client.get("/web/changes?ticket=<script>").status_code == 404
