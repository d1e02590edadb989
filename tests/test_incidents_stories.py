"""The incident stories on the real parts: the local Discord and X servers (the
unmodified discord.py and tweepy), aiosmtpd, SQLite and PostgreSQL.

1. Thirty outage reports from 30 people over Discord, X and email, with 10 unrelated
   messages: one proposal, on-call paged once, the unrelated ones not linked.
2. Confirming it and publishing two updates: the status page shows both, Discord
   #announcements gets two posts, X a two-tweet thread, the confirmed subscriber two
   mails and the unconfirmed one none, each of the 30 conversations both updates once.
4. Resolving it and its tickets in bulk: the report's duration and impact counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from storage.db import dispose_engines
from support.incidents import core, report, resolve, status, subscribers
from support.incidents.core import Actor
from support.intake.ingest import ingest
from tests.discord_server import BOT, DiscordServer
from tests.incident_burst import inbound, incidents, linked_ids, pages_of_alert, status_rows
from tests.incident_corpus import TEST_OUTAGE, TEST_UNRELATED
from tests.incident_parts import Smtp, discord_message, drain, hub_settings, text_of, x_mention
from tests.tokens import token_headers
from tests.x_server import XServer

ENGINEER = Actor("eli.eng@trkv.test", "engineer")


@pytest.fixture
def parts() -> Iterator[tuple]:
    with DiscordServer() as discord, XServer() as x, Smtp() as smtp:
        yield discord, x, smtp


@pytest.fixture
def hub(monkeypatch, tmp_path, db_url, parts, model_dir):
    discord, x, smtp = parts
    status.forget()
    yield hub_settings(monkeypatch, tmp_path, db_url, discord, x, smtp, model_dir)
    dispose_engines()


def outage_burst(hub, parts) -> dict[str, list]:
    """30 reports, 10 per channel, each from its own person; 10 unrelated messages among them."""
    discord, x, _ = parts
    out: dict[str, list] = {"discord": [], "x": [], "email": [], "unrelated": []}
    for n, text in enumerate(TEST_OUTAGE):
        channel = ("discord", "x", "email")[n % 3]
        message = (discord_message(discord, n, text) if channel == "discord" else x_mention(x, n, text)
                   if channel == "x" else inbound(n, text, channel="email"))
        out[channel].append((message, ingest(message, settings=hub).ticket_id))
        if n % 3 == 1:
            k = len(out["unrelated"])
            out["unrelated"].append((None, ingest(inbound(k, TEST_UNRELATED[k], "email", tag="u"), settings=hub).ticket_id))
    return out


def test_stories_from_a_burst_to_a_report(hub, parts):
    discord, x, smtp = parts
    burst = outage_burst(hub, parts)
    outage_ids = {tid for ch in ("discord", "x", "email") for _, tid in burst[ch]}

    # 1. one proposal, paged once, nothing published, the unrelated ones not linked
    [incident] = incidents(hub)
    assert incident.status == "proposed"
    linked = linked_ids(hub, incident.id)
    assert len(linked & outage_ids) >= 24 and not linked & {tid for _, tid in burst["unrelated"]}
    assert pages_of_alert(hub, incident.alert_id) == 1 and status_rows(hub) == 0
    drain(hub)  # the acknowledgements and the page go out; still no announcement
    assert _announcements(discord) == []

    # subscribers: one confirms by the link in the mail, one never does
    subscribers.subscribe("sam@example.com", "10.0.0.1", hub)
    subscribers.subscribe("uma@example.com", "10.0.0.2", hub)
    drain(hub)
    [confirm_mail] = smtp.mailbox.to("sam@example.com")
    token = re.search(r"/status/confirm/(\S+)", text_of(confirm_mail)).group(1)
    assert subscribers.confirm(token, hub) == "sam@example.com"

    # 2. confirm with a first update, then a second; everything drains through the real senders
    core.post_update(incident.id, "investigating", "We see 502 errors on the web app and the API.", ENGINEER,
                     settings=hub)
    drain(hub)
    core.post_update(incident.id, "identified", "A faulty load balancer config; rolling back.", ENGINEER, settings=hub)
    drain(hub)

    with TestClient(create_app(hub)) as client:
        page = client.get("/status").text
    assert "We see 502 errors" in page and "rolling back" in page
    posts = _announcements(discord)
    assert len(posts) == 2 and "Investigating" in posts[0] and "Identified" in posts[1]
    thread = [t for t in x.tweets.values() if t["text"].startswith("[Status]")]
    assert len(thread) == 2 and x.replies_to(thread[0]["id"]) == [thread[1]]
    assert [len(smtp.mailbox.to("sam@example.com")), len(smtp.mailbox.to("uma@example.com"))] == [3, 1]
    for mail in smtp.mailbox.to("sam@example.com")[1:]:
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and "/status/unsubscribe/" in mail["List-Unsubscribe"]
    for message, ticket_id in burst["discord"]:
        if ticket_id in linked:
            got = [m["content"] for m in discord.history(message.external_id) if m["author"]["id"] == BOT["id"]]
            assert sum("[Status]" in c for c in got) == 2, got
    for message, ticket_id in burst["x"]:
        if ticket_id in linked:
            assert sum("[Status]" in t["text"] for t in x.replies_to(message.external_id)) == 2
    for message, ticket_id in burst["email"]:
        if ticket_id in linked:
            assert sum("[Status]" in text_of(m) for m in smtp.mailbox.to(message.author_email)) == 2

    # 4. resolve, close the tickets in bulk, and the report counts the impact
    core.post_update(incident.id, "resolved", "Rolled back; everything works again.", ENGINEER, settings=hub)
    assert resolve.resolve_linked(incident.id, "Fixed, thanks for your patience.", ENGINEER, hub) == len(linked)
    drain(hub)
    body = report.get(incident.id, hub)
    figures = body["impact_figures"]
    assert figures["tickets"] == len(linked) and figures["people"] == len(linked)
    assert sum(figures["by_channel"].values()) == len(linked) and set(figures["by_channel"]) <= {"discord", "x", "email"}
    assert body["end"] is not None and "customers told us" in body["impact"].lower()
    assert body["markdown"].startswith(f"# {incident.title}")


def _announcements(discord) -> list[str]:
    return [m["content"] for m in discord.history("announcements") if m["author"]["id"] == BOT["id"]]


@pytest.fixture
def broken_hub(monkeypatch, tmp_path, db_url, parts, model_dir):
    discord, x, smtp = parts
    status.forget()
    yield hub_settings(monkeypatch, tmp_path, db_url, discord, x, smtp, model_dir,
                       discord_announcements_channel="status-updates")  # no such channel in the guild
    dispose_engines()


def test_a_missing_announcements_channel_and_x_without_write_access_show_while_the_rest_goes_out(broken_hub, parts):
    from support.oncall.sweep import sweep

    hub = broken_hub
    discord, x, smtp = parts
    sent = []
    for n, text in enumerate(TEST_OUTAGE[:6]):
        message = discord_message(discord, n, text) if n % 2 else inbound(n, text, channel="email")
        sent.append((message, ingest(message, settings=hub).ticket_id))
    drain(hub)
    [incident] = incidents(hub)
    x.fail("post", *["403"] * 5)  # the account may read but not post
    core.post_update(incident.id, "investigating", "We see 502 errors.", ENGINEER, settings=hub)
    drain(hub)
    sweep(hub)
    for message, _ in sent:  # every conversation still got the update
        if message.channel == "discord":
            assert any("[Status]" in m["content"] for m in discord.history(message.external_id))
        else:
            assert any("[Status]" in text_of(m) for m in smtp.mailbox.to(message.author_email))
    with TestClient(create_app(hub), base_url="https://testserver") as client:  # public_url is https: secure cookies
        health = client.get("/healthz", headers=token_headers(hub)).json()  # details are for token holders
        assert health["connectors"]["publish-discord"]["state"] == "degraded"
        assert "no announcements channel" in health["connectors"]["publish-discord"]["detail"]
        assert health["connectors"]["x-sender"]["state"] == "degraded"
        from support import accounts

        accounts.create_user("eli.eng@trkv.test", "engineer", "correct horse battery", settings=hub)
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"email": "eli.eng@trkv.test", "password": "correct horse battery",
                                    "csrf_token": token})
        page = client.get(f"/incidents/{incident.id}").text
        assert "no announcements channel" in page and "403" in page
        assert "Inbound reports per minute" in page and "<svg" in page
