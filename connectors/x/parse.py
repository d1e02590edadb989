"""X (Twitter) parsing: API v2 tweet objects and direct-message events in, `Inbound` out.

Pure: no network. Tweets fetched without expansions carry no `includes` and often no
`author_id`, so every field beyond `id` and `text` is optional here.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from connectors.base import Inbound, clean_text, text_field


def parse_tweet(
    tweet: dict, includes: dict | None = None, *, bot_username: str = "trkvbot", bot_user_id: str | None = None
) -> Inbound:
    """Turn one v2 tweet (or a `{"data": tweet, "includes": ...}` response) into an Inbound.
    Direct-message events (`event_type: MessageCreate`) are accepted too.
    Raises ValueError only for objects that are not tweets at all.

    Replies thread by `conversation_id`, except a reply to somebody else's tweet (not
    ours, not the author's own): strangers answering one popular thread are not one
    customer, so such a reply is keyed by conversation and author."""
    tweet, includes = _unwrap(tweet, includes)
    problems: list[str] = []
    tweet_id = str(tweet["id"])
    author_id = str(tweet.get("author_id") or tweet.get("sender_id") or "")
    if not author_id:
        problems.append("tweet has no author_id")
    user = _user(includes, author_id)
    username = text_field(user.get("username"), problems, "username")
    is_dm = "event_type" in tweet

    return Inbound(
        channel="x",
        external_id=tweet_id,
        text=_body(tweet, problems),
        author_id=author_id,
        author_handle=f"@{username}" if username else "",
        author_name=text_field(user.get("name"), problems, "name") or username,
        conversation_key=_conversation_key(tweet, tweet_id, author_id, is_dm, _replies_to_a_stranger(
            tweet, includes, author_id, bot_username, bot_user_id)),
        references=replied_to(tweet),
        sent_at=_created_at(tweet.get("created_at"), problems),
        permalink=None if is_dm else _permalink(username, tweet_id),
        hints=_hints(tweet, bot_username, is_dm),
        no_ack_reason=_no_ack_reason(tweet, username, bot_username),
        problems=problems,
        raw={"data": tweet, "includes": includes} if includes else tweet,
    )


def parse_page(body: dict, *, bot_username: str = "trkvbot", bot_user_id: str | None = None) -> list[Inbound]:
    """Every tweet of one v2 list response, once each. Our own posts are left out (dispatch
    records them as outgoing), and a retweet stands for the tweet it retweets: the same
    text retweeted ten times is one message, with the original's id."""
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    originals = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
    found: dict[str, Inbound] = {}
    for tweet in body.get("data") or []:
        if not isinstance(tweet, dict):
            continue
        original = _retweeted(tweet, originals)
        inbound = parse_tweet(original or tweet, includes, bot_username=bot_username, bot_user_id=bot_user_id)
        if original is None and "retweeted" in _reference_types(tweet):
            # the original is not in the includes: key the retweet by it, so that it is stored once
            inbound.external_id = next(str(r["id"]) for r in tweet["referenced_tweets"] if r.get("type") == "retweeted")
        if (bot_user_id and inbound.author_id == bot_user_id) or inbound.no_ack_reason == "our own post":
            continue
        found.setdefault(inbound.external_id, inbound)
    return list(found.values())


def _retweeted(tweet: dict, originals: dict[str, dict]) -> dict | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "retweeted":
            original = originals.get(str(ref.get("id")))
            if isinstance(original, dict) and isinstance(original.get("text"), str) and original.get("id"):
                return original
    return None


def _unwrap(tweet: Any, includes: Any) -> tuple[dict, dict]:
    if isinstance(tweet, dict) and "id" not in tweet and isinstance(tweet.get("data"), dict):
        includes = includes if includes is not None else tweet.get("includes")
        tweet = tweet["data"]
    if not isinstance(tweet, dict):
        raise ValueError(f"not a tweet: expected an object, got {type(tweet).__name__}")
    if not tweet.get("id"):
        raise ValueError("not a tweet: no id")
    if not isinstance(tweet.get("text"), str):
        raise ValueError(f"not a tweet: text is {type(tweet.get('text')).__name__}")
    if "event_type" in tweet and tweet["event_type"] != "MessageCreate":
        raise ValueError(f"not a message: direct-message event {tweet['event_type']!r}")
    return tweet, includes if isinstance(includes, dict) else {}


def _user(includes: dict, author_id: str) -> dict:
    for user in includes.get("users") or []:
        if isinstance(user, dict) and str(user.get("id")) == author_id:
            return user
    return {}


def _body(tweet: dict, problems: list[str]) -> str:
    # Posts longer than 280 characters keep their full text in note_tweet.
    note = tweet.get("note_tweet")
    text = note["text"] if isinstance(note, dict) and isinstance(note.get("text"), str) else tweet["text"]
    # v2 escapes &, < and > in text; t.co links hide where they go.
    text = html.unescape(_expand_urls(text, tweet.get("entities")))
    return clean_text(text, problems, "text")


def _expand_urls(text: str, entities: Any) -> str:
    urls = entities.get("urls") if isinstance(entities, dict) else None
    for url in urls if isinstance(urls, list) else []:
        if isinstance(url, dict) and isinstance(url.get("url"), str) and isinstance(url.get("expanded_url"), str):
            text = text.replace(url["url"], url["expanded_url"])
    return text


def _conversation_key(tweet: dict, tweet_id: str, author_id: str, is_dm: bool, stranger: bool) -> str:
    if is_dm:
        return str(tweet.get("dm_conversation_id") or (f"dm:{author_id}" if author_id else tweet_id))
    conversation = str(tweet.get("conversation_id") or tweet_id)
    return f"{conversation}:{author_id}" if stranger and author_id else conversation


def _replies_to_a_stranger(tweet: dict, includes: dict, author_id: str, bot_username: str, bot_id: str | None) -> bool:
    replied_user = str(tweet.get("in_reply_to_user_id") or "")
    if not replied_user or replied_user == author_id or replied_user == bot_id:
        return False
    username = str(_user(includes, replied_user).get("username") or "")
    return username.lower() != bot_username.lower()


def replied_to(tweet: dict) -> list[str]:
    refs = tweet.get("referenced_tweets")
    refs = refs if isinstance(refs, list) else []
    return [
        str(ref["id"]) for ref in refs if isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id")
    ]


def _reference_types(tweet: dict) -> set[str]:
    refs = tweet.get("referenced_tweets")
    return {str(r.get("type")) for r in refs if isinstance(r, dict)} if isinstance(refs, list) else set()


def _permalink(username: str, tweet_id: str) -> str:
    # /i/web/status/<id> resolves without knowing the author.
    return f"https://x.com/{username}/status/{tweet_id}" if username else f"https://x.com/i/web/status/{tweet_id}"


def _hints(tweet: dict, bot_username: str, is_dm: bool) -> dict[str, str]:
    hints = {"x_kind": "dm" if is_dm else "reply" if replied_to(tweet) else "post"}
    if not is_dm:
        hints["mentions_bot"] = "true" if _mentions(tweet, bot_username) else "false"
    return hints


def _mentions(tweet: dict, bot_username: str) -> bool:
    entities = tweet.get("entities")
    mentions = entities.get("mentions") if isinstance(entities, dict) else None
    names = {str(m.get("username", "")).lower() for m in mentions or [] if isinstance(m, dict)}
    if names:
        return bot_username.lower() in names
    return re.search(rf"(?<!\w)@{re.escape(bot_username)}\b", tweet["text"], re.I) is not None


def _no_ack_reason(tweet: dict, username: str, bot_username: str) -> str | None:
    if username and username.lower() == bot_username.lower():
        return "our own post"
    # Without tweet.fields=referenced_tweets a retweet shows only in its "RT @user:" text.
    if "retweeted" in _reference_types(tweet) or tweet["text"].startswith("RT @"):
        return "a retweet"
    return None


def _created_at(value: Any, problems: list[str]) -> datetime | None:
    if value is None:
        return None  # absent unless requested with tweet.fields; not a problem
    try:
        sent = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"unparseable created_at {str(value)[:40]!r}")
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


TWITTER_EPOCH_MS = 1288834974657


def snowflake_time(tweet_id: str) -> float:
    """When a tweet id was made (epoch seconds): X ids carry their creation time."""
    return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000
