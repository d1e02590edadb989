"""The `/kb query` slash command's answer (the callback body the Discord connector posts):
the top articles, only for the asker, and checked against Discord's OpenAPI spec."""

from __future__ import annotations

import json

from support.kb import discord_command, seed
from tests.shared_data import shared_data
from tests.test_discord_sending import check, request_schema


def interaction(query: str) -> dict:
    return {"id": "1200000000000000001", "application_id": "1100000000000000001", "type": 2,
            "token": "interaction-token", "version": 1, "guild_id": "1000000000000000001",
            "data": {"id": "1300000000000000001", "name": "kb", "type": 1,
                     "options": [{"name": "query", "type": 3, "value": query}]}}


def test_the_kb_slash_command_answers_with_the_top_articles_only_to_the_asker(sqlite_settings):
    seed.load(sqlite_settings)
    query = discord_command.query_of(interaction("timer not syncing between phone and laptop"))
    body = discord_command.answer(sqlite_settings, query)
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert body["data"]["content"].splitlines()[1].startswith("• **The timer does not sync between devices**")
    assert "/kb/timer-not-syncing>" in body["data"]["content"]
    assert body["data"]["allowed_mentions"] == {"parse": []}


def test_an_unknown_topic_gets_a_typo_hint_and_other_interactions_are_not_ours(sqlite_settings):
    seed.load(sqlite_settings)
    body = discord_command.answer(sqlite_settings, "pasword")
    assert "No article matches" in body["data"]["content"] and "password" in body["data"]["content"]
    assert discord_command.query_of({**interaction("x"), "type": 3}) is None
    assert discord_command.query_of({**interaction("x"), "data": {"name": "other"}}) is None


def test_the_callback_and_the_command_match_discords_spec(sqlite_settings):
    spec = json.loads(shared_data("discord-api-spec", "openapi.json").read_text())
    callback = request_schema(spec, "POST", "/interactions/1200000000000000001/token/callback")
    check(spec, callback, discord_command.answer(sqlite_settings, "export"))
    register = request_schema(spec, "PUT", "/applications/1100000000000000001/guilds/1000000000000000001/commands")
    check(spec, register, [discord_command.COMMAND])
