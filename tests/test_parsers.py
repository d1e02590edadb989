"""The connectors' pure parsers, on real recorded payloads, and the demo replay.

Recorded data: Discord gateway captures (serenity) and API doc examples, tweepy's
X API v2 cassettes, and public MIME torture collections (flanker, mail, mail-parser,
talon). See shared/data/README.md for their origin.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Inbound
from connectors.discord_bot import channel_route, normalize_routes, parse_change, parse_message, route
from connectors.mail.parse import MAX_PARTS, parse_email
from connectors.mail.text import html_to_text
from connectors.replay import DemoReplay, default_feed, inbound_from_line
from connectors.x.parse import parse_page, parse_tweet
from tests.shared_data import shared_data

BOT_ID = "1189467302154272859"


# --- loaders -----------------------------------------------------------------------


def serenity(name: str) -> dict:
    return json.loads(shared_data("discord-serenity-fixtures", name).read_text())


def doc_example(section: str) -> dict:
    """A payload from Discord's API docs; a few are JSON with `// comments`, stripped here."""
    for item in json.loads(shared_data("discord-api-docs", "doc_examples.json").read_text()):
        if item["section"] == section:
            return item["json"] if item["valid_json"] else json.loads(re.sub(r"//[^\n]*", "", item["raw"]))
    raise LookupError(section)


def recorded_tweets() -> list[dict]:
    """Every tweet-like object (id and text) in tweepy's v2 cassettes."""
    found = []
    for path in sorted(shared_data("tweepy-cassettes", "decoded_v2").glob("*.json")):
        for interaction in json.loads(path.read_text()):
            body = interaction.get("response_json")
            data = body.get("data") if isinstance(body, dict) else None
            for item in data if isinstance(data, list) else [data]:
                if isinstance(item, dict) and "id" in item and "text" in item:
                    found.append(item)
    return found


def recorded_tweet(text_start: str) -> dict:
    return next(t for t in recorded_tweets() if t["text"].startswith(text_start))


def mail(*parts: str) -> bytes:
    return shared_data(*parts).read_bytes()


def email_files() -> list[Path]:
    root = shared_data()
    return sorted(p for folder in root.glob("email-*") for p in folder.rglob("*") if p.is_file())


def utf8_clean(inbound: Inbound) -> bool:
    fields = [inbound.text, inbound.author_name, inbound.subject or "", inbound.html or ""]
    try:
        for value in fields:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- Discord -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["message_create_1.json", "message_create_2.json", "message_create_3.json"])
def test_discord_gateway_message_maps_id_author_and_text(name):
    """A captured MESSAGE_CREATE keeps its snowflake, author and content."""
    payload = serenity(name)
    inbound = parse_message(payload)
    assert inbound.channel == "discord"
    assert inbound.external_id == payload["id"]
    assert inbound.author_id == payload["author"]["id"]
    assert inbound.author_handle == payload["author"]["username"]
    assert inbound.text == payload["content"]
    assert inbound.raw is payload
    assert inbound.problems == []


def test_discord_author_name_falls_back_to_username_without_global_name():
    inbound = parse_message(serenity("message_create_1.json"))
    assert inbound.author_name == "zeyla"


def test_discord_author_name_prefers_global_name():
    payload = dict(serenity("message_create_1.json"))
    payload["author"] = dict(payload["author"], global_name="Zeyla Hellyer")
    assert parse_message(payload).author_name == "Zeyla Hellyer"


def test_discord_timestamp_becomes_aware_sent_at():
    inbound = parse_message(serenity("message_create_1.json"))
    assert inbound.sent_at == datetime(2017, 4, 15, 21, 26, 33, 210000, tzinfo=UTC)


def test_discord_message_without_guild_or_channel_is_taken_for_a_dm():
    payload = serenity("message_create_1.json")
    inbound = parse_message(payload)
    assert inbound.conversation_key == payload["channel_id"]
    assert inbound.permalink == f"https://discord.com/channels/@me/{payload['channel_id']}/{payload['id']}"


def test_discord_message_in_a_plain_channel_opens_its_own_conversation():
    channel = doc_example("Example Guild Text Channel")
    payload = dict(doc_example("Example Message"), channel_id=channel["id"])
    inbound = parse_message(payload, channel)
    # The message id: the thread the bot opens on it gets the same id.
    assert inbound.conversation_key == payload["id"]


def test_discord_permalink_uses_the_channels_guild():
    channel = doc_example("Example Guild Text Channel")
    payload = dict(doc_example("Example Message"), channel_id=channel["id"])
    inbound = parse_message(payload, channel)
    assert inbound.permalink == f"https://discord.com/channels/{channel['guild_id']}/{channel['id']}/{payload['id']}"


@pytest.mark.parametrize("thread_type", [10, 11, 12])
def test_discord_message_in_thread_threads_by_thread_id(thread_type):
    thread = dict(doc_example("Example Thread Channel"), type=thread_type, id="1174491000000000001")
    payload = dict(doc_example("Example Message"), channel_id=thread["id"])
    inbound = parse_message(payload, thread)
    assert inbound.conversation_key == thread["id"]


def test_discord_thread_name_becomes_the_subject():
    thread = dict(doc_example("Example Thread Channel"), id="1174491000000000001")
    payload = dict(doc_example("Example Message"), channel_id=thread["id"])
    assert parse_message(payload, thread).subject == "don't buy dota-2"


def test_discord_thread_message_references_the_message_the_thread_started_from():
    """A thread started from a message carries that message's id."""
    thread = dict(doc_example("Example Thread Channel"), id="1174491000000000001")
    payload = dict(doc_example("Example Message"), channel_id=thread["id"])
    assert parse_message(payload, thread).references == [thread["id"]]


def test_discord_dm_channel_threads_by_dm_channel_id():
    dm = doc_example("Example DM Channel")
    payload = dict(serenity("message_create_1.json"), channel_id=dm["id"])
    inbound = parse_message(payload, dm)
    assert inbound.conversation_key == dm["id"]
    assert "category" not in inbound.hints


def test_discord_reply_references_the_replied_message():
    inbound = parse_message(doc_example("Example Crossposted Message"))
    assert inbound.references == ["306588351130107906"]


def test_discord_channel_mentions_show_the_channel_name():
    inbound = parse_message(doc_example("Example Crossposted Message"))
    assert inbound.text == "Big news! In this #big-news channel!"


def test_discord_bot_mention_shows_its_name_and_sets_the_hint():
    payload = dict(
        serenity("message_create_1.json"),
        content=f"<@{BOT_ID}> is the API down?",
        mentions=[{"id": BOT_ID, "username": "TRKV", "global_name": "TRKV Bot"}],
    )
    inbound = parse_message(payload, bot_user_id=BOT_ID)
    assert inbound.text == "@TRKV Bot is the API down?"
    assert inbound.hints["mentions_bot"] == "true"


def test_discord_message_without_bot_mention_says_so():
    inbound = parse_message(serenity("message_create_1.json"), bot_user_id=BOT_ID)
    assert inbound.hints["mentions_bot"] == "false"


@pytest.mark.parametrize(
    ("category", "hint"),
    [
        ("Bug Reports", "bug_report"),
        ("Feature Requests", "feature_request"),
        ("Support Tickets", "support_question"),
        ("Documentation", "documentation"),
        ("General Discussion", "general"),
    ],
)
def test_discord_category_hint_follows_the_channels_category(category, hint):
    channel = dict(doc_example("Example Guild Text Channel"), name="some-channel", category=category)
    inbound = parse_message(dict(doc_example("Example Message"), channel_id=channel["id"]), channel)
    assert inbound.hints["category"] == hint
    assert inbound.hints["discord_channel"] == "some-channel"


def test_discord_announcements_give_no_category_hint():
    channel = dict(doc_example("Example Guild Announcement Channel"), category="Announcements")
    inbound = parse_message(dict(doc_example("Example Message"), channel_id=channel["id"]), channel)
    assert "category" not in inbound.hints


def test_discord_attachments_keep_their_metadata():
    attachment = {
        "id": "1",
        "filename": "trace.har",
        "content_type": "application/json",
        "size": 48213,
        "url": "https://cdn.discordapp.com/attachments/1/2/trace.har",
    }
    inbound = parse_message(dict(serenity("message_create_1.json"), attachments=[attachment]))
    [found] = inbound.attachments
    assert (found.filename, found.content_type, found.size, found.url) == (
        "trace.har",
        "application/json",
        48213,
        attachment["url"],
    )


def test_discord_embed_only_message_takes_its_text_from_the_embed():
    inbound = parse_message(serenity("message_footer_1.json"))
    assert inbound.text.startswith("Kyon is your ordinary high school freshman")


def test_discord_bot_author_gets_no_acknowledgement():
    assert parse_message(serenity("message_create_2.json")).no_ack_reason == "sent by a bot or webhook"


def test_discord_own_bot_message_gets_no_acknowledgement():
    payload = serenity("message_create_1.json")
    assert parse_message(payload, bot_user_id=payload["author"]["id"]).no_ack_reason == "our own bot's message"


def test_discord_system_message_gets_no_acknowledgement():
    inbound = parse_message(serenity("message_type_7.json"))
    assert inbound.no_ack_reason == "Discord system message (type 7)"


def test_discord_message_without_author_reports_a_problem():
    """Discord's own example has an empty author object."""
    payload = doc_example("Game Direct Message Create Example")["event"]["data"]
    inbound = parse_message(payload)
    assert inbound.author_id == ""
    assert "message has no author" in inbound.problems
    assert inbound.text == "get in friend, we're going raiding"


def test_discord_missing_author_key_reports_a_problem():
    payload = {k: v for k, v in serenity("message_create_1.json").items() if k != "author"}
    assert "message has no author" in parse_message(payload).problems


def test_discord_non_string_content_reports_a_problem():
    inbound = parse_message(dict(serenity("message_create_1.json"), content=12345))
    assert inbound.text == ""
    assert inbound.problems == ["content is int, not text"]


def test_discord_broken_surrogates_are_replaced_and_reported():
    inbound = parse_message(dict(serenity("message_create_1.json"), content="login broken \ud83d pls"))
    assert utf8_clean(inbound)
    assert inbound.text == "login broken ? pls"
    assert inbound.problems == ["content: broken unicode replaced"]


def test_discord_gateway_dispatch_is_unwrapped():
    frame = {"op": 0, "s": 42, "t": "MESSAGE_CREATE", "d": serenity("message_create_1.json")}
    assert parse_message(frame).external_id == "302917639565475840"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda: doc_example("Example Hello"), id="hello"),
        pytest.param(lambda: doc_example("Example Gateway Event Payload"), id="other-dispatch"),
        pytest.param(lambda: serenity("typing_start_1.json"), id="typing-start"),
        pytest.param(lambda: serenity("ready_1.json"), id="ready"),
        pytest.param(lambda: doc_example("Example User"), id="user-object"),
        pytest.param(lambda: [1, 2], id="list"),
        pytest.param(lambda: "hello", id="string"),
    ],
)
def test_discord_payloads_that_are_not_messages_raise_value_error(payload):
    with pytest.raises(ValueError, match="not a Discord message"):
        parse_message(payload())


def test_discord_configured_hint_wins_over_the_category_name():
    channel = dict(doc_example("Example Guild Text Channel"), category="General Discussion", hint="bug_report")
    inbound = parse_message(dict(doc_example("Example Message"), channel_id=channel["id"]), channel)
    assert inbound.hints["category"] == "bug_report"


def _seed_channel(name: str, category: str, **extra) -> dict:
    return dict(doc_example("Example Guild Text Channel"), name=name, category=category, **extra)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Bug Reports", "bug_report"),
        ("Feature Requests", "feature_request"),
        ("Support Tickets", "support_question"),
        ("Documentation", "documentation"),
        ("Announcements", None),
        ("Off Topic", None),
    ],
)
def test_discord_route_follows_the_seed_categories_by_default(category, expected):
    payload = serenity("message_create_1.json")
    hint, _ = route(payload, _seed_channel("some-channel", category), normalize_routes(None), BOT_ID)
    assert hint == expected


def test_discord_general_discussion_needs_a_mention_of_the_bot():
    routes, channel = normalize_routes(None), _seed_channel("general", "General Discussion")
    plain = serenity("message_create_1.json")
    mentioning = dict(plain, mentions=[{"id": BOT_ID, "username": "TRKV Bot"}])
    assert route(plain, channel, routes, BOT_ID) == (None, "does not mention the bot")
    assert route(mentioning, channel, routes, BOT_ID) == ("general", "")


def test_discord_thread_the_bot_opened_in_general_discussion_is_followed_without_mentions():
    thread = dict(doc_example("Example Thread Channel"), parent_name="general", category="General Discussion",
                  owner_id=BOT_ID)
    assert route(serenity("message_create_1.json"), thread, normalize_routes(None), BOT_ID) == ("general", "")


def test_discord_bots_webhooks_and_system_messages_are_not_routed():
    channel, routes = _seed_channel("bugs", "Bug Reports"), normalize_routes(None)
    assert route(serenity("message_create_2.json"), channel, routes, BOT_ID)[1] == "sent by a bot or webhook"
    assert route(serenity("message_type_7.json"), channel, routes, BOT_ID)[1] == "system message (type 7)"
    own = dict(serenity("message_create_1.json"), author={"id": BOT_ID, "username": "TRKV Bot"})
    assert route(own, channel, routes, BOT_ID)[1] == "our own message"


def test_discord_dm_is_always_routed_as_a_support_question():
    dm = doc_example("Example DM Channel")
    assert route(serenity("message_create_1.json"), dm, normalize_routes(None), BOT_ID) == ("support_question", "")


def test_discord_mapping_matches_channel_names_loosely_and_by_id():
    routes = normalize_routes({"#Bug-Reports": "bug_report", "41771983423143937": "documentation"})
    assert channel_route({"type": 0, "name": "bug_reports"}, routes) == "bug_report"
    assert channel_route({"type": 0, "id": "41771983423143937", "name": "x"}, routes) == "documentation"
    assert channel_route({"type": 0, "name": "random"}, routes) == "ignore"


def test_discord_mapping_with_an_unknown_value_is_refused():
    with pytest.raises(ValueError, match="not a category"):
        normalize_routes({"bugs": "urgent"})


def test_discord_message_update_becomes_an_edit_with_its_new_text():
    payload = serenity("message_update_1.json")
    [edit] = parse_change("MESSAGE_UPDATE", payload)
    assert (edit["kind"], edit["external_id"], edit["text"]) == ("edit", "302917639565475840", "b")
    assert edit["at"] == "2017-04-15T21:30:43.074233+00:00"


def test_discord_update_without_content_is_not_an_edit():
    """Discord sends MESSAGE_UPDATE for embed unfurls too, without `content`."""
    payload = {k: v for k, v in serenity("message_update_1.json").items() if k != "content"}
    assert parse_change("MESSAGE_UPDATE", payload) == []


def test_discord_bulk_delete_records_each_message():
    changes = parse_change("MESSAGE_DELETE_BULK", {"ids": ["1", "2"], "channel_id": "9"})
    assert [(c["kind"], c["external_id"]) for c in changes] == [("delete", "1"), ("delete", "2")]


# --- X -----------------------------------------------------------------------------


def test_every_recorded_tweet_parses():
    tweets = recorded_tweets()
    assert len(tweets) > 600
    for tweet in tweets:
        inbound = parse_tweet(tweet)
        assert inbound.channel == "x"
        assert inbound.external_id == tweet["id"]
        assert utf8_clean(inbound)


def test_tweet_without_conversation_id_is_its_own_conversation():
    tweet = recorded_tweet("It’s finally here!")
    assert parse_tweet(tweet).conversation_key == tweet["id"]


def test_tweet_without_includes_or_author_still_parses_with_a_problem():
    tweet = recorded_tweet("It’s finally here!")
    inbound = parse_tweet(tweet)
    assert inbound.author_id == ""
    assert inbound.author_handle == ""
    assert inbound.permalink == f"https://x.com/i/web/status/{tweet['id']}"
    assert inbound.problems == ["tweet has no author_id"]


def test_tweet_author_comes_from_includes():
    tweet = dict(recorded_tweet("It’s finally here!"), author_id="2244994945")
    includes = {"users": [{"id": "2244994945", "username": "XDevelopers", "name": "Developers"}]}
    inbound = parse_tweet(tweet, includes)
    assert (inbound.author_id, inbound.author_handle, inbound.author_name) == (
        "2244994945",
        "@XDevelopers",
        "Developers",
    )
    assert inbound.permalink == f"https://x.com/XDevelopers/status/{tweet['id']}"


def test_tweet_response_envelope_is_unwrapped_with_its_includes():
    tweet = dict(recorded_tweet("It’s finally here!"), author_id="2244994945")
    envelope = {"data": tweet, "includes": {"users": [{"id": "2244994945", "username": "XDevelopers"}]}}
    assert parse_tweet(envelope).author_handle == "@XDevelopers"


def test_tweet_text_has_html_entities_unescaped():
    tweet = recorded_tweet("RT @jangles: Introducing mixed media")
    assert "via @Twitter < great feature" in parse_tweet(tweet).text


def test_recorded_retweet_gets_no_acknowledgement():
    tweet = recorded_tweet("RT @jangles: Introducing mixed media")
    assert parse_tweet(tweet).no_ack_reason == "a retweet"


def test_tweet_reply_threads_by_conversation_id_and_references_the_replied_tweet():
    tweet = dict(
        recorded_tweet("It’s finally here!"),
        conversation_id="1293593516040269000",
        referenced_tweets=[{"type": "quoted", "id": "1"}, {"type": "replied_to", "id": "1293593516040269111"}],
    )
    inbound = parse_tweet(tweet)
    assert inbound.conversation_key == "1293593516040269000"
    assert inbound.references == ["1293593516040269111"]
    assert inbound.hints["x_kind"] == "reply"


def test_tweet_links_are_expanded():
    tweet = recorded_tweet("It’s finally here!")
    tweet = dict(
        tweet,
        entities={"urls": [{"url": "https://t.co/32VrwpGaJw", "expanded_url": "https://blog.twitter.com/developer"}]},
    )
    assert "https://blog.twitter.com/developer" in parse_tweet(tweet).text


def test_tweet_mentioning_the_bot_sets_the_hint():
    tweet = recorded_tweet("@Twitter @TwitterSupport this is my ENTIRE feed")
    assert parse_tweet(tweet, bot_username="TwitterSupport").hints["mentions_bot"] == "true"
    assert parse_tweet(tweet).hints["mentions_bot"] == "false"


def test_own_tweet_gets_no_acknowledgement():
    tweet = dict(recorded_tweet("It’s finally here!"), author_id="9")
    inbound = parse_tweet(tweet, {"users": [{"id": "9", "username": "TrkvBot"}]})
    assert inbound.no_ack_reason == "our own post"


def test_long_post_takes_its_full_text_from_note_tweet():
    tweet = dict(recorded_tweet("It’s finally here!"), note_tweet={"text": "the whole long story " * 20})
    assert parse_tweet(tweet).text.startswith("the whole long story the whole")


def test_recorded_direct_message_event_parses_as_a_dm():
    event = next(t for t in recorded_tweets() if t.get("event_type") == "MessageCreate")
    inbound = parse_tweet(event)
    assert inbound.text == event["text"]
    assert inbound.hints["x_kind"] == "dm"
    assert inbound.permalink is None


def test_tweet_with_broken_surrogates_is_cleaned_and_reported():
    inbound = parse_tweet({"id": "1", "text": "down again \udcff"})
    assert utf8_clean(inbound)
    assert inbound.problems[-1] == "text: broken unicode replaced"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(
            lambda: json.loads(shared_data("tweepy-cassettes", "decoded_v2", "test_client_get_user.json").read_text())[
                0
            ]["response_json"],
            id="user-object",
        ),
        pytest.param(lambda: {"data": {"deleted": True}}, id="delete-result"),
        pytest.param(lambda: {"id": "1", "text": None}, id="no-text"),
        pytest.param(lambda: {"id": "1", "text": "x", "event_type": "ParticipantsJoin"}, id="dm-join"),
        pytest.param(lambda: "tweet", id="string"),
    ],
)
def test_objects_that_are_not_tweets_raise_value_error(payload):
    with pytest.raises(ValueError, match="not a"):
        parse_tweet(payload())


def recorded_body(name: str) -> dict:
    body = json.loads(shared_data("tweepy-cassettes", "decoded_v2", f"{name}.json").read_text())[0]["response_json"]
    return json.loads(body) if isinstance(body, str) else body


def test_a_recorded_mentions_page_gives_one_message_per_tweet():
    body = recorded_body("test_client_get_users_mentions")
    inbounds = parse_page(body)
    assert [i.external_id for i in inbounds] == [t["id"] for t in body["data"]]


def test_retweets_of_one_tweet_in_a_page_are_stored_once_as_the_original():
    original = {"id": "100", "text": "@trkvbot sync is stuck", "author_id": "7"}
    retweets = [
        {"id": str(200 + n), "text": "RT @cy: @trkvbot sync is stuck", "author_id": str(8 + n),
         "referenced_tweets": [{"type": "retweeted", "id": "100"}]}
        for n in range(3)
    ]
    body = {"data": [*retweets, original], "includes": {"tweets": [original], "users": [{"id": "7", "username": "cy"}]}}
    (inbound,) = parse_page(body)
    assert (inbound.external_id, inbound.author_handle, inbound.no_ack_reason) == ("100", "@cy", None)


def test_retweets_whose_original_is_not_included_share_the_original_id():
    retweets = [{"id": str(200 + n), "text": "RT @cy: trkv is down", "referenced_tweets": [{"type": "retweeted", "id": "100"}]}
                for n in range(2)]
    (inbound,) = parse_page({"data": retweets})
    assert inbound.external_id == "100" and inbound.no_ack_reason == "a retweet"


def test_our_own_tweets_are_left_out_of_a_page():
    body = {"data": [{"id": "1", "text": "TRKV-4 is fixed", "author_id": "9"}, {"id": "2", "text": "@trkvbot hi", "author_id": "7"}]}
    assert [i.external_id for i in parse_page(body, bot_user_id="9")] == ["2"]


def test_a_reply_to_our_tweet_threads_by_conversation_id():
    tweet = {"id": "5", "text": "@trkvbot still broken", "author_id": "7", "conversation_id": "1", "in_reply_to_user_id": "9",
             "referenced_tweets": [{"type": "replied_to", "id": "4"}]}
    assert parse_tweet(tweet, {"users": [{"id": "9", "username": "TRKVbot"}]}).conversation_key == "1"
    assert parse_tweet(tweet, bot_user_id="9").conversation_key == "1"


def test_strangers_mentioning_us_in_somebody_elses_thread_get_a_conversation_each():
    def reply(tweet_id: str, author: str) -> dict:
        return {"id": tweet_id, "text": "@celebrity @trkvbot is trkv down?", "author_id": author, "conversation_id": "1",
                "in_reply_to_user_id": "3", "referenced_tweets": [{"type": "replied_to", "id": "1"}]}

    includes = {"users": [{"id": "3", "username": "celebrity"}]}
    keys = {parse_tweet(reply("5", "7"), includes).conversation_key, parse_tweet(reply("6", "8"), includes).conversation_key}
    assert keys == {"1:7", "1:8"}


# --- email -------------------------------------------------------------------------


def test_every_email_file_parses_or_is_rejected_with_a_reason():
    """The torture collections: each file becomes an Inbound or a ValueError, never a crash."""
    parsed = rejected = 0
    for path in email_files():
        try:
            inbound = parse_email(path.read_bytes())
        except ValueError as exc:
            assert str(exc).startswith("not an email"), path
            rejected += 1
            continue
        assert inbound.external_id, path
        assert utf8_clean(inbound), path
        parsed += 1
    assert parsed > 150 and rejected > 0


def test_endlessly_nested_message_is_parsed_without_hanging():
    raw = mail("email-flanker", "enclosed-endless.eml")
    result: list[Inbound] = []
    worker = threading.Thread(target=lambda: result.append(parse_email(raw)), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "parse_email did not finish on a 3 MB nested message"
    assert result[0].subject == "Wow"


def test_message_with_too_many_parts_stops_at_the_limit():
    parts = "".join(f"--b\r\nContent-Type: image/png\r\n\r\nx{i}\r\n" for i in range(MAX_PARTS + 50))
    raw = f"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n".encode()
    inbound = parse_email(raw)
    assert len(inbound.attachments) < MAX_PARTS
    assert any("MIME parts" in p for p in inbound.problems)


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        (("rfc2822", "example01.eml"), "Saying Hello"),
        (("rfc2822", "example06.eml"), "Re: Saying Hello"),
        (("rfc2822", "example09.eml"), "Saying Hello"),
        (("rfc2822", "example14.eml"), "Re: TESTテストテスト"),
        (("rfc6532", "utf8_headers.eml"), "Säying Hello"),
        (("multi_charset", "japanese_iso_2022.eml"), "まみむめも"),
        (("plain_emails", "raw_email_with_partially_quoted_subject.eml"), 'Re: Test: "漢字" mid "漢字" tail'),
    ],
)
def test_known_good_messages_have_the_expected_decoded_subject(path, subject):
    inbound = parse_email(mail("email-rubymail", *path))
    assert inbound.subject == subject
    assert inbound.hints == {"email_subject": subject}


def test_email_message_id_loses_its_angle_brackets():
    inbound = parse_email(mail("email-rubymail", "rfc2822", "example01.eml"))
    assert inbound.external_id == "1234@local.machine.example"
    assert inbound.text == 'This is a message just to say hello.\nSo, "Hello".'


def test_email_without_message_id_gets_a_stable_content_hash():
    raw = mail("email-rubymail", "rfc6532", "utf8_headers.eml")
    first, second = parse_email(raw), parse_email(raw)
    assert first.external_id == second.external_id
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.external_id)
    assert "no Message-ID; id derived from the content" in first.problems


def test_email_reply_references_in_reply_to_then_references():
    inbound = parse_email(mail("email-rubymail", "rfc2822", "example07.eml"))
    assert inbound.references == ["3456@example.net", "1234@local.machine.example"]
    assert inbound.conversation_key is None


def test_email_reply_to_is_preferred_for_the_author_email():
    inbound = parse_email(mail("email-rubymail", "rfc2822", "example06.eml"))
    assert (inbound.author_id, inbound.author_name, inbound.author_email) == (
        "mary@example.net",
        "Mary Smith",
        "smith@home.example",
    )


def test_email_encoded_sender_name_is_decoded():
    assert parse_email(mail("email-flanker", "from-encoding.eml")).author_name == "Ingo Lütkebohle"


def test_email_sender_without_quotes_still_yields_an_address():
    inbound = parse_email(mail("email-rubymail", "plain_emails", "mix_caps_content_type.eml"))
    assert (inbound.author_id, inbound.author_name) == ("bb@bug.com", "Big Bug")


def test_email_obsolete_header_syntax_is_read():
    """RFC 2822 appendix A.6.3: blanks before the colon."""
    inbound = parse_email(mail("email-rubymail", "rfc2822", "example13.eml"))
    assert inbound.author_id == "jdoe@machine.example"


def test_email_date_becomes_aware_sent_at():
    inbound = parse_email(mail("email-rubymail", "rfc2822", "example01.eml"))
    assert inbound.sent_at.isoformat() == "1997-11-21T09:55:06-06:00"


def test_email_unparseable_date_is_none_with_a_problem():
    inbound = parse_email(mail("email-rubymail", "plain_emails", "raw_email_with_bad_date.eml"))
    assert inbound.sent_at is None
    assert any(p.startswith("unparseable Date") for p in inbound.problems)


def test_email_attachments_keep_their_metadata():
    inbound = parse_email(mail("email-rubymail", "attachment_emails", "attachment_pdf.eml"))
    [attachment] = inbound.attachments
    assert attachment.content_type == "application/pdf"
    assert attachment.filename.endswith(".pdf")
    assert attachment.size and attachment.size > 1000


def test_email_html_alternative_is_kept_beside_the_plain_text():
    inbound = parse_email(mail("email-flanker", "mailgun-pic.eml"))
    assert inbound.html and "<" in inbound.html
    assert inbound.text and "<" not in inbound.text


def test_html_only_email_text_drops_tags_and_script():
    raw = (
        b"From: a@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><script>alert('x')</script><style>p{}</style></head>"
        b"<body><p>Export &amp; import</p><p>fail<br>since Monday</p></body></html>"
    )
    inbound = parse_email(raw)
    assert inbound.text == "Export & import\n\nfail\nsince Monday"


def test_html_to_text_survives_unclosed_tags():
    assert html_to_text("<div><p>still <b>readable") == "still readable"


@pytest.mark.parametrize(
    "path",
    [
        ("email-flanker", "bounce", "gmail-invalid-address.eml"),
        ("email-flanker", "bounce", "mailbox-full.eml"),
        ("email-flanker", "bounce", "broken-mime.eml"),
        ("email-flanker", "disposition-notification.eml"),
        ("email-rubymail", "multipart_report_emails", "report_422.eml"),
        ("email-mailparser", "mail_malformed_2.eml"),
    ],
)
def test_bounces_and_reports_get_no_acknowledgement(path):
    assert parse_email(mail(*path)).no_ack_reason


def test_list_mail_gets_no_acknowledgement():
    assert parse_email(mail("email-mailparser", "mail_test_13.eml")).no_ack_reason == "List-Id header present"


def test_bulk_precedence_gets_no_acknowledgement():
    assert parse_email(mail("email-mailparser", "mail_test_16.eml")).no_ack_reason == "Precedence: junk"


def test_noreply_sender_gets_no_acknowledgement():
    inbound = parse_email(mail("email-rubymail", "plain_emails", "raw_email_trailing_dot.eml"))
    assert inbound.no_ack_reason == "no-reply sender noreply@rubyforge.org"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("X-Autoreply: yes", "X-Autoreply header present"),
        ("X-Autorespond: vacation", "X-Autorespond header present"),
        ("Return-Path: <>", "empty Return-Path (a bounce)"),
    ],
)
def test_rfc3834_auto_mail_headers_get_no_acknowledgement(header, reason):
    raw = f"From: kim@example.com\r\n{header}\r\nSubject: Out of office\r\n\r\nBack Monday.\r\n".encode()
    assert parse_email(raw).no_ack_reason == reason


def test_auto_submitted_no_may_be_acknowledged():
    raw = b"From: kim@example.com\r\nAuto-Submitted: no\r\nSubject: help\r\n\r\nlogin fails\r\n"
    assert parse_email(raw).no_ack_reason is None


def test_ordinary_mail_may_be_acknowledged():
    assert parse_email(mail("email-rubymail", "rfc2822", "example01.eml")).no_ack_reason is None


def test_mail_from_our_own_address_gets_no_acknowledgement():
    raw = b"From: TRKV Support <support@trkv-web.app>\r\nSubject: Re: help\r\n\r\nthanks\r\n"
    inbound = parse_email(raw, own_addresses=["Support@trkv-web.app"])
    assert inbound.no_ack_reason == "sent from our own support address (mail loop)"


@pytest.mark.parametrize(
    "path",
    [
        ("email-talon-replies", "html_replies", "gmail.html"),
        ("email-talon-replies", "signature", "emails", "stripped", "long_body"),
        ("email-rubymail", "sample_output_multipart"),
    ],
)
def test_files_that_are_not_email_raise_value_error(path):
    with pytest.raises(ValueError, match="not an email"):
        parse_email(mail(*path))


# --- the bundled demo feed ---------------------------------------------------------------


def feed_lines() -> list[dict]:
    return [json.loads(line) for line in default_feed().read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_feed_line_parses_into_an_inbound_with_text():
    lines = feed_lines()
    assert len(lines) >= 250
    for number, line in enumerate(lines, 1):
        inbound = inbound_from_line(line)
        assert inbound.text.strip(), f"feed line {number} has no text"
        assert inbound.channel == line["channel"]


def test_feed_external_ids_are_unique_per_channel():
    keys = [(i.channel, i.external_id) for i in map(inbound_from_line, feed_lines())]
    assert len(keys) == len(set(keys))


def test_feed_starts_within_seconds_and_plays_for_about_twenty_minutes():
    ats = [line["at"] for line in feed_lines()]
    assert ats == sorted(ats)
    assert all(at <= 5 for at in ats[:5])
    assert 15 * 60 <= ats[-1] <= 25 * 60


def test_feed_has_every_channel_and_priority():
    lines = feed_lines()
    assert {line["channel"] for line in lines} == {"discord", "x", "email"}
    assert {line["context"]["label"]["priority"] for line in lines} == {"critical", "high", "medium", "low"}


def test_feed_email_replies_point_at_earlier_demo_emails():
    seen: set[str] = set()
    replies = 0
    for line in feed_lines():
        if line["channel"] != "email":
            continue
        inbound = inbound_from_line(line)
        if inbound.references and inbound.no_ack_reason is None:
            assert seen & set(inbound.references), inbound.subject
            replies += 1
        seen.add(inbound.external_id)
    assert replies >= 10


def test_feed_tweets_fit_in_280_characters_and_mention_the_bot():
    for line in feed_lines():
        if line["channel"] == "x":
            tweet = line["payload"]["data"]
            assert len(tweet["text"]) <= 280
            assert parse_tweet(line["payload"]).hints["mentions_bot"] == "true"


def test_feed_has_discord_threads_and_x_conversations_with_follow_ups():
    counts: dict[tuple[str, str], int] = {}
    for inbound in map(inbound_from_line, feed_lines()):
        if inbound.channel in ("discord", "x") and not (inbound.conversation_key or "").startswith("msg:"):
            key = (inbound.channel, inbound.conversation_key)
            counts[key] = counts.get(key, 0) + 1
    assert sum(1 for (channel, _), n in counts.items() if channel == "discord" and n > 1) >= 3
    assert sum(1 for (channel, _), n in counts.items() if channel == "x" and n > 1) >= 3


# --- the demo replay -----------------------------------------------------------------------


class FakeSink:
    """An in-memory Sink: remembers what was submitted, the cursors and the reports."""

    def __init__(self, cursor: str | None = None, fail_times: int = 0):
        self.submitted: list[Inbound] = []
        self.cursors: dict[str, str] = {} if cursor is None else {"demo": cursor}
        self.reports: list[tuple[str, str, str]] = []
        self.fail_times = fail_times
        self.first_submit = threading.Event()

    def submit(self, inbound: Inbound) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("database is locked")
        self.submitted.append(inbound)
        self.first_submit.set()

    def load_cursor(self, name: str) -> str | None:
        return self.cursors.get(name)

    def save_cursor(self, name: str, value: str) -> None:
        self.cursors[name] = value

    def report(self, name: str, state: str, detail: str = "") -> None:
        self.reports.append((name, state, detail))


@pytest.fixture
def small_feed(tmp_path) -> Path:
    """The first twelve lines of the bundled feed."""
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in feed_lines()[:12]), encoding="utf-8")
    return path


def expected_ids(path: Path) -> list[str]:
    return [inbound_from_line(json.loads(line)).external_id for line in path.read_text().splitlines()]


def test_replay_submits_every_line_in_order(small_feed):
    sink = FakeSink()
    DemoReplay(small_feed, speed=1000).run(sink, threading.Event())
    assert [i.external_id for i in sink.submitted] == expected_ids(small_feed)
    assert sink.cursors["demo"] == "12"


def test_replay_resumes_from_the_cursor_without_resubmitting(small_feed):
    sink = FakeSink(cursor="5")
    DemoReplay(small_feed, speed=1000).run(sink, threading.Event())
    assert [i.external_id for i in sink.submitted] == expected_ids(small_feed)[5:]


def test_replay_of_a_finished_feed_submits_nothing(small_feed):
    sink = FakeSink(cursor="12")
    DemoReplay(small_feed, speed=1000).run(sink, threading.Event())
    assert sink.submitted == []
    assert sink.reports[-1][:2] == ("demo", "ok")


def test_replay_reports_ok_to_the_sink(small_feed):
    sink = FakeSink()
    DemoReplay(small_feed, speed=1000).run(sink, threading.Event())
    assert sink.reports[0][:2] == ("demo", "ok")
    assert "finished" in sink.reports[-1][2]


def test_replay_waits_for_each_lines_offset_on_its_clock(small_feed):
    """With a fake clock that only moves when the replay sleeps, the sleeps add up to the offsets."""
    now = [0.0]
    DemoReplay(small_feed, speed=2.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)).run(
        FakeSink(), threading.Event()
    )
    lines = feed_lines()[:12]
    assert now[0] == pytest.approx((lines[-1]["at"] - lines[0]["at"]) / 2.0)


def test_replay_stops_when_the_stop_event_is_set_while_waiting(small_feed):
    stop = threading.Event()
    naps: list[float] = []

    def sleep(seconds: float) -> None:  # the clock never moves: only stop can end the wait
        naps.append(seconds)
        if len(naps) == 3:
            stop.set()

    sink = FakeSink()
    DemoReplay(small_feed, speed=0.001, clock=lambda: 0.0, sleep=sleep).run(sink, stop)
    assert len(sink.submitted) == 1
    assert sink.cursors["demo"] == "1"


def test_replay_returns_promptly_from_a_real_wait_when_stopped(small_feed):
    stop, sink = threading.Event(), FakeSink()
    worker = threading.Thread(target=DemoReplay(small_feed, speed=0.001).run, args=(sink, stop), daemon=True)
    worker.start()
    assert sink.first_submit.wait(30)
    stop.set()
    worker.join(30)
    assert not worker.is_alive()
    assert len(sink.submitted) == 1


def test_replay_skips_a_bad_line_logs_it_and_moves_on(tmp_path, caplog):
    good = feed_lines()[:2]
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps(good[0]),
        "{not json",
        json.dumps({"at": 1, "channel": "fax", "payload": {}}),
        json.dumps({"at": 2, "channel": "discord", "payload": {"op": 10, "d": {}}}),
        json.dumps(good[1]),
    ]
    path.write_text("\n".join(lines) + "\n")
    sink = FakeSink()
    with caplog.at_level(logging.WARNING, logger="connectors.replay"):
        DemoReplay(path, speed=1000).run(sink, threading.Event())
    assert [i.external_id for i in sink.submitted] == [inbound_from_line(line).external_id for line in good]
    assert sink.cursors["demo"] == "5"
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 3


def test_replay_retries_a_failed_submit_and_reports_degraded(small_feed):
    sink = FakeSink(fail_times=2)
    DemoReplay(small_feed, speed=1000, sleep=lambda s: None).run(sink, threading.Event())
    assert [i.external_id for i in sink.submitted] == expected_ids(small_feed)
    assert ("demo", "degraded") in [r[:2] for r in sink.reports]


# --- email: quoted history, signatures, attachments' content, bounces ------------------


@pytest.mark.parametrize(
    "name", ["android", "aol", "apple_mail", "apple_mail_2", "comcast", "gmail", "hotmail", "iphone", "outlook",
             "sparrow", "thunderbird", "yahoo"],
)
def test_replies_from_common_mail_clients_show_only_the_new_text(name):
    inbound = parse_email(mail("email-talon-replies", "standard_replies", f"{name}.eml"))
    assert inbound.text == "Hello"
    assert "wrote" in inbound.raw or "From:" in inbound.raw or "Original" in inbound.raw or ">" in inbound.raw


def test_talon_reply_fixtures_match_their_expected_new_text():
    for name in ("iphone", "sparrow"):
        expected = mail("email-talon-replies", "standard_replies", f"{name}_reply_text").decode().strip()
        # talon keeps the signature ("-- " block, "Sent from my iPhone"); the inbox view drops it.
        expected = expected.split("\n-- \n")[0]
        expected = "\n".join(line for line in expected.splitlines() if not line.startswith("Sent from my")).strip()
        assert parse_email(mail("email-talon-replies", "standard_replies", f"{name}.eml")).text == expected


def test_quoted_history_and_signature_are_stripped_but_kept_in_the_original():
    raw = (
        b"From: Ada <ada@example.com>\r\nSubject: Re: export\r\nMessage-ID: <r1@example.com>\r\n\r\n"
        b"The CSV export still fails.\r\n\r\n-- \r\nAda Lovelace\r\nExample Corp\r\n\r\n"
        b"On Mon, 2 Nov 2026 at 10:00, TRKV Support <support@trkv.example> wrote:\r\n"
        b"> We have logged your request as TRKV-12.\r\n"
    )
    inbound = parse_email(raw)
    assert inbound.text == "The CSV export still fails."
    assert "We have logged your request" in inbound.raw and "Example Corp" in inbound.raw


def test_outlook_style_history_is_stripped_and_interleaved_answers_are_kept():
    outlook = (
        b"From: b@example.com\r\nSubject: RE: x\r\n\r\nSee attached.\r\n\r\n"
        b"From: TRKV Support <support@trkv.example>\r\nSent: Monday, November 2, 2026 10:00\r\n"
        b"To: b@example.com\r\nSubject: x\r\n\r\nOld text\r\n"
    )
    assert parse_email(outlook).text == "See attached."
    interleaved = b"From: c@example.com\r\nSubject: Re: q\r\n\r\n> Which version?\r\n4.2\r\n> Which browser?\r\nFirefox\r\n"
    assert parse_email(interleaved).text == "> Which version?\n4.2\n> Which browser?\nFirefox"


def test_a_message_that_is_all_quote_keeps_its_text():
    raw = b"From: c@example.com\r\nSubject: Fwd\r\n\r\n> only a quote\r\n> nothing else\r\n"
    assert parse_email(raw).text == "> only a quote\n> nothing else"


def test_small_attachments_keep_their_content_up_to_the_cap():
    import base64

    raw = mail("email-rubymail", "attachment_emails", "attachment_pdf.eml")
    without = parse_email(raw)
    assert all(a.url is None for a in without.attachments)
    [pdf] = parse_email(raw, attachment_max_bytes=10_000_000).attachments
    assert pdf.url.startswith("data:application/pdf;base64,")
    assert len(base64.b64decode(pdf.url.split(",", 1)[1])) == pdf.size
    [capped] = parse_email(raw, attachment_max_bytes=pdf.size - 1).attachments
    assert capped.url is None and capped.size == pdf.size


@pytest.mark.parametrize(
    ("path", "returned", "reason"),
    [
        (("bounce", "gmail-invalid-address.eml"), "CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com",
         "550 5.1.0 Recipient rejected"),
        (("bounce", "mailbox-full.eml"), "4E326A95.3010907@example.com", "552 5.2.2"),
        (("bounce", "office365.eml"), "20171013111011.20866.254C2F3A4D7AA526@ninomail.com", "550 5.1.10"),
    ],
)
def test_a_bounce_names_the_message_it_returns_and_why(path, returned, reason):
    inbound = parse_email(mail("email-flanker", *path))
    assert inbound.no_ack_reason
    assert returned in inbound.hints["bounce_of"].split()
    assert reason in inbound.hints["bounce_reason"]


def test_an_ordinary_message_carries_no_bounce_hints():
    assert "bounce_of" not in parse_email(mail("email-rubymail", "rfc2822", "example01.eml")).hints


def test_thousands_of_mime_parts_are_cut_before_parsing():
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(5000))
    raw = b"From: a@example.com\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"
    inbound = parse_email(raw)
    assert any(f"more than {MAX_PARTS} MIME parts (5001)" in p for p in inbound.problems)
    assert "part 0" in inbound.text and "part 4999" not in inbound.text
