"""What the bot sends to Discord: checked against Discord's official OpenAPI spec, and
addressed into the customer's conversation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from connectors.base import ConnectorError, Outbound
from connectors.discord_live import NONCE_LENGTH, DiscordSender, nonce_for, sanitize_mentions
from support.channels.discord import ack_outbound, reply_outbound, where
from tests.cast import bo_discord
from tests.discord_server import ADA, BO, GUILD_ID, TOKEN, DiscordServer, channel_id
from tests.shared_data import shared_data

SPEC_URI = "urn:discord-openapi"


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(shared_data("discord-api-spec", "openapi.json").read_text())


@pytest.fixture
def server() -> Iterator[DiscordServer]:
    with DiscordServer() as running:
        yield running


def sender(server: DiscordServer) -> DiscordSender:
    return DiscordSender(TOKEN, api_base=server.api_base, gateway_url=server.gateway_url, guild_id=GUILD_ID)


def operation(spec: dict, method: str, path: str) -> dict:
    """The spec's operation for `method path`; a literal segment (`@me`) beats a placeholder."""
    for template in sorted(spec["paths"], key=lambda t: t.count("{")):
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in spec["paths"][template]:
            return spec["paths"][template][method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of Discord's API")


def request_schema(spec: dict, method: str, path: str) -> dict | None:
    body = operation(spec, method, path).get("requestBody", {}).get("content", {}).get("application/json")
    return body["schema"] if body else None


def response_schema(spec: dict, method: str, path: str, status: int) -> dict | None:
    answer = operation(spec, method, path)["responses"].get(str(status), {})
    return answer.get("content", {}).get("application/json", {}).get("schema")


def check(spec: dict, schema: dict, value) -> None:
    """Validate `value` against `schema`, whose `#/components/...` refs point into the spec."""
    schemas = dict(spec["components"]["schemas"], __checked=schema)
    contents = dict(spec, components=dict(spec["components"], schemas=schemas))
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(contents, default_specification=DRAFT202012))
    Draft202012Validator({"$ref": SPEC_URI + "#/components/schemas/__checked"}, registry=registry).validate(value)


def validate(spec: dict, request: dict) -> None:
    schema = request_schema(spec, request["method"], request["path"])
    if schema is None:
        assert request["json"] is None, f"{request['method']} {request['path']} takes no body"
        return
    check(spec, schema, request["json"])


def test_everything_the_bot_sends_is_valid_for_discords_openapi_spec(server, spec):
    discord = sender(server)
    post = server.post("bug-reports", BO, "Exports fail with a 500 @everyone")
    discord.send(ack_outbound(_inbound_of(post), "ack:1", f"Thanks <@{BO['id']}>! Logged as TRKV-1."))
    discord.send(Outbound(channel="discord", kind="reply", idempotency_key="reply:1", text="Fixed.",
                          conversation_key=post["id"]))
    discord.send_dm(ADA["id"], "[CRITICAL] TRKV-1", key="page:1")
    discord.post_status("[Status] Investigating", key="status:1")
    sent = [r for r in server.requests if r["method"] != "GET"]
    assert {r["path"].split("/")[-1] for r in sent} >= {"threads", "messages", "channels"}
    for request in server.requests:
        validate(spec, request)


def test_the_local_server_answers_in_the_shapes_of_discords_spec(server, spec):
    """Its answers are what the real API returns, so discord.py is tested on real shapes."""
    discord = sender(server)
    post = server.post("bug-reports", BO, "Exports fail")
    discord.send(ack_outbound(_inbound_of(post), "ack:1", "Logged as TRKV-1."))
    discord.send_dm(ADA["id"], "[CRITICAL] TRKV-1", key="page:1")
    answered = [r for r in server.requests if r["status"] < 300]
    assert {r["path"].split("/")[-1] for r in answered} >= {"@me", "threads", "messages", "channels"}
    for request in answered:
        schema = response_schema(spec, request["method"], request["path"], request["status"])
        if schema is not None:
            check(spec, schema, request["response"])


def test_a_request_outside_the_spec_is_caught(spec):
    """The check above can fail: a nonce longer than Discord allows is rejected."""
    bad = {"method": "POST", "path": "/channels/1/messages", "json": {"content": "hi", "nonce": "x" * 26}}
    with pytest.raises(Exception, match="nonce|valid"):
        validate(spec, bad)


def test_nonces_are_stable_short_and_distinct_per_key():
    assert nonce_for("ack:1") == nonce_for("ack:1")
    assert nonce_for("ack:1") != nonce_for("ack:2")
    assert len(nonce_for("reply:" + "k" * 200)) <= NONCE_LENGTH


def test_mass_mentions_are_broken_but_the_text_stays_readable():
    assert sanitize_mentions("ping @everyone and @here") == "ping @\u200beveryone and @\u200bhere"


def test_the_ack_pings_only_the_customer(server):
    post = server.post("support", BO, f"<@{ADA['id']}> told me to ask here @everyone")
    sender(server).send(ack_outbound(_inbound_of(post), "ack:9", f"Thanks <@{BO['id']}>!"))
    [request] = [r for r in server.requests if r["path"].endswith("/messages") and r["method"] == "POST"]
    assert request["json"]["allowed_mentions"] == {"parse": [], "users": [BO["id"]]}


def test_a_retried_ack_after_a_crash_reuses_the_thread_and_posts_once(server):
    post = server.post("bug-reports", BO, "Sync is stuck")
    outbound = ack_outbound(_inbound_of(post), "ack:3", "Thanks!")
    first, again = sender(server).send(outbound), sender(server).send(outbound)
    assert first.external_id == again.external_id
    assert [m["content"] for m in server.history(post["id"])] == ["Thanks!"]


def test_an_unknown_dm_recipient_is_a_permanent_error(server):
    with pytest.raises(ConnectorError) as failure:
        sender(server).send_dm("1999999999999999999", "hello", key="page:x")
    assert failure.value.permanent


def test_a_rejected_token_is_a_permanent_error(server):
    bad = DiscordSender("wrong-token", api_base=server.api_base, gateway_url=server.gateway_url)
    with pytest.raises(ConnectorError) as failure:
        bad.send(Outbound(channel="discord", kind="reply", idempotency_key="k", text="hi",
                          conversation_key=channel_id("support")))
    assert failure.value.permanent


# --- addressing ------------------------------------------------------------------------


def _inbound_of(message: dict):
    from connectors.discord_bot import parse_message

    channel = {"id": message["channel_id"], "type": 0 if message.get("guild_id") else 1}
    return parse_message(message, channel)


def test_a_reply_to_a_plain_channel_message_goes_into_the_thread_on_it():
    raw = {"id": "50", "channel_id": "7", "guild_id": GUILD_ID, "author": {"id": BO["id"]}}
    fields = where("50", raw, "Exports fail", "Exports fail with a 500")
    assert fields["meta"] == {"channel_id": "7", "thread_from": "50", "thread_name": "Exports fail"}


def test_a_reply_in_a_thread_goes_to_the_thread():
    raw = {"id": "51", "channel_id": "50", "guild_id": GUILD_ID, "author": {"id": BO["id"]}}
    assert where("50", raw, None, "more") == {"conversation_key": "50"}


def test_a_reply_to_a_dm_goes_to_the_author():
    raw = {"id": "61", "channel_id": "60", "author": {"id": BO["id"]}}
    assert where("60", raw, None, "help")["to"] == BO["id"]


def test_a_reply_to_a_ticket_without_a_native_payload_uses_its_conversation_key():
    """Tickets imported or built without the raw payload still get an address."""

    class _Ticket:
        conversation_key, subject = "thread-77", "the timeline view crashes"

    inbound = bo_discord()
    last_in = type("Row", (), {"conversation_key": inbound.conversation_key, "raw": None,
                               "external_id": inbound.external_id, "text": inbound.text})()
    outbound = reply_outbound(_Ticket(), last_in, "We're on it.", "reply:1", settings=None)
    assert (outbound.conversation_key, outbound.to, outbound.meta) == ("thread-77", None, {})


def test_outgoing_attachments_are_listed_with_their_links(server):
    dm = server.dm_channel(BO)
    sender(server).send(Outbound(channel="discord", kind="reply", idempotency_key="reply:att", to=BO["id"],
                                 text="Here is the fixed export.",
                                 meta={"attachments": [{"filename": "export.csv", "url": "https://files.example/e.csv"}]}))
    [sent] = server.history(dm)
    assert sent["content"] == "Here is the fixed export.\n\U0001f4ce export.csv: https://files.example/e.csv"


def test_text_longer_than_discord_allows_is_cut_not_rejected(server):
    dm = server.dm_channel(BO)
    sender(server).send(Outbound(channel="discord", kind="reply", idempotency_key="reply:long", to=BO["id"],
                                 text="x" * 2500))
    [sent] = server.history(dm)
    assert len(sent["content"]) == 2000 and sent["content"].endswith("\u2026")


def test_a_rate_limited_send_is_retried_by_discord_py_and_posted_once(server):
    dm = server.dm_channel(BO)
    server.rate_limited = 2
    sender(server).send(Outbound(channel="discord", kind="reply", idempotency_key="reply:rl", to=BO["id"],
                                 text="Sorry for the wait."))
    attempts = [r for r in server.requests if r["path"] == f"/channels/{dm}/messages" and r["method"] == "POST"]
    assert len(attempts) == 3
    assert [m["content"] for m in server.history(dm)] == ["Sorry for the wait."]
