"""Story: a Discord slash command is answered. The unmodified discord.py client, run by the
hub's connector, registers `/kb` on the local Discord server (a bulk overwrite of the
guild's application commands); Bo runs `/kb query` and the answer, visible only to him,
lists the right article; words the KB does not know get "nothing found" with a
did-you-mean, and that search joins the weekly missing topics. When Bo follows the link
and still opens a ticket, the article shows among the week's weak articles."""

from __future__ import annotations

import json
import threading
import time

import pytest

from fastapi.testclient import TestClient

from connectors.discord_commands import DEFER_AFTER
from connectors.discord_live import DiscordReceiver
from connectors.runner import run_receivers
from inbox.app import create_app
from support.intake.receive import DatabaseSink
from support.kb import seed, weekly
from tests.discord_server import ADA, APP_ID, BO, GUILD_ID, TOKEN
from tests.shared_data import shared_data
from tests.test_discord_live import Connector, hub_settings, server, state, tickets, until  # noqa: F401
from tests.test_discord_sending import check, request_schema


@pytest.fixture
def kb_hub(monkeypatch, tmp_path, db_url, server, model_dir):  # noqa: F811
    settings = hub_settings(monkeypatch, tmp_path, db_url, server, model_dir)
    seed.load(settings)
    running = Connector(settings).start()
    try:
        server.wait(lambda: state(settings) == "ok", "the connector to connect")
        yield settings
    finally:
        running.stop()


def answer(server, query: str, who: dict = BO) -> dict:  # noqa: F811
    asked = server.slash("support", who, "kb", query=query)
    return server.wait(lambda: server.callbacks.get(asked), f"the answer to /kb {query}")


def test_a_discord_slash_command_is_answered_only_to_the_asker_with_the_right_article(kb_hub, server):  # noqa: F811
    [registered] = server.commands[GUILD_ID]
    assert registered["name"] == "kb" and [o["name"] for o in registered["options"]] == ["query"]
    assert registered["options"][0]["required"] is True and registered["options"][0]["type"] == 3

    body = answer(server, "timer not syncing between phone and laptop")
    assert body["type"] == 4 and body["data"]["flags"] == 64  # CHANNEL_MESSAGE_WITH_SOURCE, EPHEMERAL
    lines = body["data"]["content"].splitlines()
    assert lines[1].startswith("• **The timer does not sync between devices**")
    assert "/kb/go/timer-not-syncing?r=d" in lines[1]  # the click is a read by Bo
    assert body["data"]["allowed_mentions"] == {"parse": []}
    assert not server.sent_by_bot()  # nothing posted in the channel for everyone


def test_an_unknown_topic_gets_nothing_found_a_typo_hint_and_joins_the_missing_topics(kb_hub, server):  # noqa: F811
    content = answer(server, "pasword")["data"]["content"]
    assert content.startswith("Nothing found for “pasword”.") and "Did you mean “password”?" in content
    assert "open a ticket" in content
    answer(server, "dark mode")
    assert {"query": "dark mode", "searches": 1} in weekly.report(kb_hub)["missing_topics"]


def test_the_registration_and_the_answer_match_discords_spec(kb_hub, server):  # noqa: F811
    spec = json.loads(shared_data("discord-api-spec", "openapi.json").read_text())
    body = answer(server, "export")
    check(spec, request_schema(spec, "POST", "/interactions/1200000000000000001/token/callback"), body)
    put = next(r for r in server.requests if r["method"] == "PUT" and r["path"].endswith("/commands"))
    assert put["path"] == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    check(spec, request_schema(spec, "PUT", put["path"]), put["json"])


def test_an_article_read_from_the_answer_then_a_ticket_is_a_weak_article(kb_hub, server):  # noqa: F811
    import re

    content = answer(server, "timer not syncing between phone and laptop")["data"]["content"]
    link = re.search(r"<(http[^>]+/kb/go/timer-not-syncing\?r=[^>]+)>", content).group(1)
    web = TestClient(create_app(kb_hub))
    landed = web.get(link.split("127.0.0.1:8000", 1)[1])
    assert landed.status_code == 200 and "The timer does not sync between devices" in landed.text
    helped = answer(server, "export csv", who=ADA)["data"]["content"]  # Ada reads another and is helped
    assert web.get(re.search(r"<http://127.0.0.1:8000(/kb/go/[^>]+)>", helped).group(1)).status_code == 200
    assert weekly.report(kb_hub)["weak_articles"] == []

    server.post("support", BO, "The timer still does not sync between my phone and laptop, even after re-login")
    until(server, kb_hub, lambda: tickets(kb_hub), "Bo's ticket")
    [weak] = weekly.report(kb_hub)["weak_articles"]
    assert weak == {"slug": "timer-not-syncing", "title": "The timer does not sync between devices", "reads": 1,
                    "tracked_reads": 1, "followed_by_ticket": 1, "rate": 1.0}


def test_an_answer_slower_than_discords_limit_is_deferred_then_follows_only_to_the_asker(
        monkeypatch, tmp_path, sqlite_url, server, model_dir):  # noqa: F811
    """Discord drops an interaction unanswered after 3 s: a slow answer (a process's first
    search builds the index) is deferred at once, then sent as an ephemeral follow-up."""
    settings = hub_settings(monkeypatch, tmp_path, sqlite_url, server, model_dir)
    seed.load(settings)
    sink = DatabaseSink(settings)

    def slow(command: str, options: dict, user: str) -> str:
        time.sleep(DEFER_AFTER + 0.5)
        return sink.answer_command(command, options, user)

    receiver = DiscordReceiver(TOKEN, GUILD_ID, api_base=server.api_base, gateway_url=server.gateway_url,
                               guild_ready_timeout=0.05, answer_command=slow)
    stop = threading.Event()
    thread = threading.Thread(target=run_receivers, args=([receiver], sink, stop), daemon=True)
    thread.start()
    try:
        server.wait(lambda: state(settings) == "ok" and server.commands.get(GUILD_ID), "the connector to connect")
        asked = server.slash("support", BO, "kb", query="export csv")
        server.wait(lambda: server.followups.get(asked), "the follow-up")
        assert server.callbacks[asked]["type"] == 5 and server.callbacks[asked]["data"]["flags"] & 64
        [follow] = server.followups[asked]
        assert follow["flags"] & 64 and "/kb/go/export-not-working?r=d" in follow["content"]
    finally:
        stop.set()
        thread.join(30)
