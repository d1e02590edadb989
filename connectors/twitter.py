"""X (Twitter): API v2 tweet objects in, `Inbound` out; polling and posting with tweepy.

Parsing is pure (`parse_tweet`, `parse_page`). Tweets fetched without expansions
carry no `includes` and often no `author_id`, so every field beyond `id` and `text`
is optional there.

`XReceiver` polls the bot's mentions timeline and a recent search with the unmodified
`tweepy.Client`, within a `RateBudget` (connectors/x_budget.py); `XSender` posts
replies, status updates and direct messages. `make_client` points tweepy at another
base URL (a proxy, a local test server) by rewriting URLs at the HTTP layer.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import requests.adapters
import tweepy

from connectors.base import ConnectorError, Inbound, Outbound, SendResult, Sink, clean_text, text_field
from connectors.x_budget import RateBudget, Stopped

log = logging.getLogger(__name__)


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
        references=_replied_to(tweet),
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


def _replied_to(tweet: dict) -> list[str]:
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
    hints = {"x_kind": "dm" if is_dm else "reply" if _replied_to(tweet) else "post"}
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


# --- the network side ------------------------------------------------------------------

TWITTER = "https://api.twitter.com"
TWEET_FIELDS = ["author_id", "conversation_id", "created_at", "entities", "in_reply_to_user_id", "note_tweet",
                "referenced_tweets"]
# author, replied/quoted/retweeted tweets and their authors, the user replied to
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "in_reply_to_user_id"]
USER_FIELDS = ["name", "username"]
MENTIONS_KEPT = 800  # the mentions timeline returns only the newest 800
DM_EVENT_FIELDS = ["created_at", "dm_conversation_id", "event_type", "sender_id", "text"]
TWITTER_EPOCH_MS = 1288834974657


class _Redirect(requests.adapters.HTTPAdapter):
    """tweepy writes https://api.twitter.com into every request; send it to `base` instead
    (a proxy, a local test server). OAuth 1.0a signing has happened by then and is kept.
    Also gives every request a timeout: tweepy sets none."""

    def __init__(self, base: str, timeout: float):
        super().__init__()
        self.base = base.rstrip("/")
        self.timeout = timeout

    def send(self, request, **kwargs):
        if request.url.startswith(TWITTER):
            request.url = self.base + request.url[len(TWITTER):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def make_client(
    *,
    bearer_token: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    access_token: str | None = None,
    access_token_secret: str | None = None,
    api_base: str = TWITTER,
    timeout: float = 30.0,
) -> tweepy.Client:
    """A tweepy.Client that returns raw responses (the budget needs their headers) and
    never waits on rate limits by itself."""
    client = tweepy.Client(
        bearer_token, consumer_key, consumer_secret, access_token, access_token_secret,
        return_type=requests.Response, wait_on_rate_limit=False,
    )
    client.session.mount(TWITTER, _Redirect(api_base, timeout))
    return client


class XRequestError(ConnectorError):
    """X answered with a 4xx that retrying the same request cannot fix."""

    def __init__(self, message: str, *, status: int, detail: str, permanent: bool):
        super().__init__(message, permanent=permanent)
        self.status = status
        self.detail = detail


class _Api:
    """Requests through the budget: each waits for its endpoint's budget, tells the budget
    what X said, and becomes a result, a retry with backoff, or a ConnectorError."""

    def __init__(self, budget: RateBudget, *, sleep: Callable[[float], bool], attempts: int = 8,
                 trouble: Callable[[str], None] | None = None):
        self.budget = budget
        self.sleep = sleep
        self.attempts = attempts
        self.trouble = trouble or (lambda detail: None)

    def call(self, endpoint: str, method: Callable, *args, resend_safe: bool = True, **params) -> dict:
        """`resend_safe=False` (creating a tweet): after a timeout or a 5xx the request may
        have taken effect, so it is not repeated here; the caller's retry checks first."""
        for _ in range(self.attempts):
            self.budget.acquire(endpoint, self.sleep)
            try:
                response = method(*args, **params)
            except tweepy.TooManyRequests as exc:
                wait = self.budget.rate_limited(endpoint, exc.response.headers)
                self.trouble(f"{endpoint}: rate limited by X (429); next request in {wait:.0f} s")
                continue
            except tweepy.TwitterServerError as exc:
                self.budget.observe(endpoint, exc.response.headers)
                wait = self.budget.failed(endpoint)
                self.trouble(f"{endpoint}: X answered {exc.response.status_code}; retrying in {wait:.0f} s")
                if not resend_safe:
                    raise ConnectorError(f"{endpoint}: X answered {exc.response.status_code}") from exc
                continue
            except requests.RequestException as exc:  # timeouts, refused or dropped connections
                wait = self.budget.failed(endpoint)
                self.trouble(f"{endpoint}: {type(exc).__name__} talking to X; retrying in {wait:.0f} s")
                if not resend_safe:
                    raise ConnectorError(f"{endpoint}: {type(exc).__name__} talking to X") from exc
                continue
            except tweepy.HTTPException as exc:
                raise _request_error(endpoint, exc) from exc
            self.budget.observe(endpoint, response.headers)
            self.budget.succeeded(endpoint)
            return response.json() if response.content else {}
        raise ConnectorError(f"{endpoint}: X kept failing after {self.attempts} attempts")


def _request_error(endpoint: str, exc: tweepy.HTTPException) -> XRequestError:
    status = exc.response.status_code
    detail = "; ".join(exc.api_messages) or _problem_detail(exc.response) or exc.response.reason or ""
    if status == 401:
        what = "X refused the credentials (401)"
    elif status == 403:
        what = "X forbids this (403: suspended account, missing access level, or not allowed)"
    else:
        what = f"X rejected the request ({status})"
    # 401/403 are the account's problem: permanent. Other 4xx are this request's problem.
    return XRequestError(f"{endpoint}: {what}: {detail}", status=status, detail=detail, permanent=True)


def _problem_detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("detail") or body.get("title") or "") if isinstance(body, dict) else ""


def snowflake_time(tweet_id: str) -> float:
    """When a tweet id was made (epoch seconds): X ids carry their creation time."""
    return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000


class XReceiver:
    """Polls the bot's mentions timeline and a recent search for the brand, oldest first
    into the sink; the `since_id` cursors move only after the sink has committed.

    With the user's keys (`read_dms`) it also reads the account's direct messages: a
    customer who answers a private follow-up, or writes to us privately, is a message
    like any other. X's DM list has no `since_id`: it is read newest first until the
    newest event already stored, at most `max_search_pages` pages, as often as its own
    small budget allows (15 requests in 15 minutes on most tiers), so that it never slows
    the mentions."""

    def __init__(
        self,
        client: tweepy.Client,
        budget: RateBudget,
        *,
        bot_username: str,
        search_query: str = "",
        user_auth: bool = False,
        bot_user_id: str | None = None,
        page_size: int = 100,
        max_search_pages: int = 10,
        backfill_hours: float = 2.0,
        min_interval: float = 10.0,
        max_interval: float = 120.0,
        read_dms: bool = False,
        name: str = "x",
    ):
        self.client, self.budget, self.name = client, budget, name
        self.bot_username, self.search_query = bot_username, search_query.strip()
        self.user_auth, self.bot_user_id = user_auth, bot_user_id
        self.page_size, self.max_search_pages = page_size, max_search_pages
        self.backfill_hours = backfill_hours
        self.min_interval, self.max_interval = min_interval, max_interval
        self.sleep: Callable[[float], bool] = lambda seconds: threading.Event().wait(seconds)
        self._seen: OrderedDict[str, None] = OrderedDict()  # recently submitted ids
        self._requests: dict[str, int] = {}  # requests the last poll made, per endpoint
        self._health: tuple[str, str] | None = None
        self._notice: tuple[float, str] | None = None  # a warning that stays visible for a while
        self.read_dms = read_dms  # needs the user's keys (the client has them), whatever reads the mentions
        self._next_dm_poll = 0.0

    def run(self, sink: Sink, stop: threading.Event) -> None:
        self.sleep = stop.wait
        while not stop.is_set():
            try:
                self.poll_once(sink)
            except Stopped:
                return
            if stop.wait(self.interval()):
                return

    def interval(self) -> float:
        """Seconds to the next poll, derived from what the budget allows."""
        endpoints = ["mentions", *(["search"] if self.search_query else [])]
        pace = max(self.budget.poll_interval(e) * max(self._requests.get(e, 1), 1) for e in endpoints)
        blocked = max(self.budget.wait_time(e) for e in endpoints)  # used up: no use waking before the reset
        return max(blocked, min(self.max_interval, max(self.min_interval, pace)))

    def poll_once(self, sink: Sink) -> int:
        """One round of both queries; returns how many messages were submitted."""
        api = _Api(self.budget, sleep=self.sleep, trouble=lambda detail: self._report(sink, "degraded", detail))
        if self.bot_user_id is None:
            self.bot_user_id = self._whoami(api)
        self._requests = {}
        found: dict[str, Inbound] = {}
        cursors: dict[str, str] = {}
        incomplete: list[str] = []  # what went wrong, for queries whose pages are not all there
        for query in ("mentions", "search"):
            if query == "search" and not self.search_query:
                continue
            since_id = sink.load_cursor(self._cursor(query))
            pages, error = self._fetch(api, sink, query, since_id)
            for body in pages:
                for inbound in parse_page(body, bot_username=self.bot_username, bot_user_id=self.bot_user_id):
                    if inbound.external_id in found:  # found by both queries: stored once
                        found[inbound.external_id].hints["x_query"] = "both"
                        continue
                    inbound.hints["x_query"] = query
                    if query == "search" and inbound.hints.get("mentions_bot") != "true" and not inbound.no_ack_reason:
                        # brand monitoring: a ticket to look at, but no unsolicited automatic reply
                        inbound.no_ack_reason = "a brand mention not addressed to us"
                    found[inbound.external_id] = inbound
            newest = _newest_id(pages)
            # after a page failed midway the older pages were not seen: fetch them all again next time
            if error:
                incomplete.append(error)
            elif newest and (since_id is None or int(newest) > int(since_id)):
                cursors[query] = newest
        submitted = self._submit(sink, found.values())
        if self.read_dms and self.budget.clock() >= self._next_dm_poll:
            self._next_dm_poll = self.budget.clock() + self.budget.poll_interval("dms")  # its own pace
            submitted += self._poll_dms(api, sink, incomplete)
        for query, newest in cursors.items():  # only now is everything up to `newest` committed
            sink.save_cursor(self._cursor(query), newest)
        if submitted:
            log.info("x: %d new tweet(s) stored", submitted)
        if incomplete:
            self._report(sink, "degraded", "; ".join(incomplete) + " (asked again at the next poll)")
        else:
            self._report(sink, "ok", f"polling as @{self.bot_username}")
        return submitted

    def _cursor(self, query: str) -> str:
        return f"{self.name}:{query}:since_id"

    def _poll_dms(self, api: _Api, sink: Sink, incomplete: list[str]) -> int:
        """Direct messages to the account since the newest one stored, oldest first."""
        cursor = sink.load_cursor(self._cursor("dms"))
        oldest_wanted = None
        if cursor is None:  # the very first poll: what is recent enough to answer within the SLA
            oldest_wanted = self.budget.clock() - self.backfill_hours * 3600
        params: dict[str, Any] = dict(dm_event_fields=DM_EVENT_FIELDS, event_types="MessageCreate",
                                      expansions=["sender_id"], user_fields=USER_FIELDS, max_results=self.page_size,
                                      user_auth=True)
        events: dict[str, Inbound] = {}
        newest: str | None = None
        token = None
        for _ in range(self.max_search_pages):
            try:
                body = api.call("dms", self.client.get_direct_message_events,
                                **params, **({"pagination_token": token} if token else {}))
            except XRequestError as exc:
                if exc.status == 401:
                    raise
                # 403: the app has no DM permission (X's "Read and write and Direct message" setting)
                log.warning("x: direct messages: %s", exc)
                incomplete.append(f"direct messages: {exc}")
                return 0
            self._requests["dms"] = self._requests.get("dms", 0) + 1
            data = [e for e in body.get("data") or [] if isinstance(e, dict) and e.get("id")]
            reached = False
            for event in data:
                event_id = str(event["id"])
                newest = event_id if newest is None or int(event_id) > int(newest) else newest
                if (cursor is not None and int(event_id) <= int(cursor)) or (
                        oldest_wanted is not None and snowflake_time(event_id) < oldest_wanted):
                    reached = True
                    break
                if event.get("event_type", "MessageCreate") != "MessageCreate":
                    continue
                if not isinstance(event.get("text"), str):  # a DM of an image alone: stored, with no words
                    event = {**event, "text": ""}
                inbound = parse_tweet(event, body.get("includes") if isinstance(body.get("includes"), dict) else {},
                                      bot_username=self.bot_username, bot_user_id=self.bot_user_id)
                if inbound.author_id == self.bot_user_id:  # our own, recorded when it was sent
                    continue
                events.setdefault(inbound.external_id, inbound)
            token = (body.get("meta") or {}).get("next_token")
            if reached or not token:
                break
        else:
            self._warn(sink, f"direct messages: more than {self.max_search_pages * self.page_size} new events since "
                             "the last poll; older ones were skipped")
        submitted = self._submit(sink, events.values())
        if submitted:
            log.info("x: %d new direct message(s) stored", submitted)
        if newest is not None and (cursor is None or int(newest) > int(cursor)):
            sink.save_cursor(self._cursor("dms"), newest)  # after the sink committed them
        return submitted

    def _submit(self, sink: Sink, inbounds) -> int:
        """Into the sink oldest first, a page at a time, leaving out what this process already
        submitted; returns how many went in."""
        fresh = [i for i in sorted(inbounds, key=lambda i: _id_order(i.external_id)) if i.external_id not in self._seen]
        submit_many = getattr(sink, "submit_many", None)  # a sink that commits a page at once, if it has one
        for start in range(0, len(fresh), self.page_size):
            chunk = fresh[start : start + self.page_size]
            if submit_many is not None:
                submit_many(chunk)
            else:
                for inbound in chunk:
                    sink.submit(inbound)
            for inbound in chunk:
                self._remember(inbound.external_id)
        return len(fresh)

    def _whoami(self, api: _Api) -> str:
        if self.user_auth:
            body = api.call("users/me", self.client.get_me, user_auth=True)
        else:
            body = api.call("users", self.client.get_user, username=self.bot_username)
        data = body.get("data") or {}
        if not data.get("id"):
            raise ConnectorError(f"X does not know the account @{self.bot_username}", permanent=True)
        self.bot_username = data.get("username") or self.bot_username
        return str(data["id"])

    def _fetch(self, api: _Api, sink: Sink, query: str, since_id: str | None) -> tuple[list[dict], str | None]:
        """The pages of one query since `since_id`, newest first, and why not all of them are there."""
        params: dict[str, Any] = dict(
            expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS,
            max_results=self.page_size, user_auth=self.user_auth,
        )
        if since_id:
            params["since_id"] = since_id
        else:  # the very first poll: what is recent enough to answer within the SLA
            now = datetime.fromtimestamp(self.budget.clock(), UTC)
            params["start_time"] = now - timedelta(hours=self.backfill_hours)
        if query == "mentions":
            method, args, token_param = self.client.get_users_mentions, (self.bot_user_id,), "pagination_token"
            max_pages = None  # the timeline stops at 800 by itself
        else:
            method, args, token_param = self.client.search_recent_tweets, (self.search_query,), "next_token"
            max_pages = self.max_search_pages
        pages: list[dict] = []
        token = None
        while True:
            try:
                body = api.call(query, method, *args, **params, **({token_param: token} if token else {}))
            except XRequestError as exc:
                if exc.status in (401, 403):
                    raise
                if since_id and "since_id" in exc.detail and not pages:
                    # too old for the search's 7 days: start again from the backfill window
                    log.warning("x: %s cursor %s rejected (%s); starting from the backfill window",
                                query, since_id, exc.detail)
                    return self._fetch(api, sink, query, None)
                log.warning("x: %s", exc)
                return pages, str(exc)
            self._requests[query] = self._requests.get(query, 0) + 1
            pages.append(body)
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
            if max_pages and len(pages) >= max_pages:
                self._warn(sink, f"{query}: more than {len(pages) * self.page_size} new matches since the last poll; "
                                 "older ones were skipped (narrow TRKV_X_SEARCH_QUERY)")
                break
        if query == "mentions":
            pages += self._recover_gap(api, sink, pages, since_id)
        return pages, None

    def _recover_gap(self, api: _Api, sink: Sink, pages: list[dict], since_id: str | None) -> list[dict]:
        """The mentions timeline keeps only the newest 800. When a poll after an outage hits
        that cap, ask the recent search (7 days) for mentions between the cursor and the
        oldest one fetched, and say what was recovered or may be lost."""
        ids = [str(t["id"]) for body in pages for t in body.get("data") or [] if isinstance(t, dict) and t.get("id")]
        if not since_id or len(ids) < MENTIONS_KEPT:
            return []
        oldest = min(ids, key=int)
        fmt = "%Y-%m-%d %H:%M UTC"
        window = (f"between {datetime.fromtimestamp(snowflake_time(since_id), UTC):{fmt}} and "
                  f"{datetime.fromtimestamp(snowflake_time(oldest), UTC):{fmt}}")
        params = dict(expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS,
                      max_results=self.page_size, user_auth=self.user_auth, since_id=since_id, until_id=oldest)
        found: list[dict] = []
        token = None
        try:
            while True:
                body = api.call("search", self.client.search_recent_tweets, f"@{self.bot_username}",
                                **params, **({"next_token": token} if token else {}))
                self._requests["search"] = self._requests.get("search", 0) + 1
                found.append(body)
                token = (body.get("meta") or {}).get("next_token")
                if not token or len(found) >= self.max_search_pages:
                    break
        except XRequestError as exc:
            if exc.status in (401, 403):
                raise
            self._warn(sink, f"mentions: X keeps only the newest {MENTIONS_KEPT} and the search could not fill the "
                             f"gap ({exc.detail}): mentions posted {window} may be missing")
            return found
        recovered = sum(len(body.get("data") or []) for body in found)
        if token:
            self._warn(sink, f"mentions: X keeps only the newest {MENTIONS_KEPT}; {recovered} older ones posted "
                             f"{window} were recovered from the search, more of them are missing")
        elif recovered:
            self._warn(sink, f"mentions: X keeps only the newest {MENTIONS_KEPT}; {recovered} older ones posted "
                             f"{window} were recovered from the recent search (it covers 7 days: mentions older "
                             "than that are missing)")
        return found

    def _warn(self, sink: Sink, detail: str) -> None:
        log.warning("x: %s", detail)
        self._notice = (self.budget.clock(), detail)
        self._report(sink, "degraded", detail)

    def _report(self, sink: Sink, state: str, detail: str) -> None:
        if state == "ok" and self._notice is not None:
            since, notice = self._notice
            if self.budget.clock() - since < 3600:  # a warning stays on /healthz for an hour
                state, detail = "degraded", notice
            else:
                self._notice = None
        if self._health != (state, detail):
            self._health = (state, detail)
            sink.report(self.name, state, detail)

    def _remember(self, external_id: str) -> None:
        self._seen[external_id] = None
        if len(self._seen) > 10_000:
            self._seen.popitem(last=False)


def _newest_id(pages: list[dict]) -> str | None:
    ids = [str(t["id"]) for body in pages for t in body.get("data") or [] if isinstance(t, dict) and t.get("id")]
    ids += [str(m["newest_id"]) for body in pages if isinstance(m := body.get("meta"), dict) and m.get("newest_id")]
    ids = [i for i in ids if i.isdigit()]
    return max(ids, key=int) if ids else None


def _id_order(external_id: str) -> tuple[int, str]:
    return (int(external_id), "") if external_id.isdigit() else (0, external_id)


class XSender:
    """Posts acknowledgements and replies as reply tweets, status updates as tweets, and
    private follow-ups as direct messages (`meta["dm"]`).

    X has no idempotency key. A row that is sent again after an attempt that may have
    reached X (`is_retry(key)`: a crash, a timeout) is first looked up among the bot's
    newest tweets: a tweet answering the same tweet with the same text is taken as
    already sent. X also refuses duplicate text from one account with a 403, which is
    treated the same way."""

    channel = "x"

    def __init__(
        self,
        client: tweepy.Client,
        budget: RateBudget,
        *,
        is_retry: Callable[[str], bool] = lambda key: False,
        report: Callable[[str, str], None] | None = None,
        max_wait: float = 60.0,
    ):
        self.client, self.budget = client, budget
        self.is_retry = is_retry
        self.report = report or (lambda state, detail: None)
        self.max_wait = max_wait
        self._me: str | None = None

    def send(self, outbound: Outbound) -> SendResult:
        api = _Api(self.budget, sleep=self._sleep, attempts=3)
        try:
            result = self._dm(api, outbound) if outbound.meta.get("dm") else self._tweet(api, outbound)
        except XRequestError as exc:
            if exc.status in (401, 403):  # the account's problem, not just this message's
                self.report("down" if exc.status == 401 else "degraded", str(exc))
            raise
        except Stopped as exc:
            raise ConnectorError(f"{exc}: over the posting budget; will retry", retry_after=exc.seconds) from exc
        self.report("ok", "sending")
        return result

    def _tweet(self, api: _Api, outbound: Outbound) -> SendResult:
        reply_to = outbound.in_reply_to if outbound.kind != "status" else None
        if reply_to is None and outbound.kind != "status":
            # an answer without the tweet it answers would be a public post to nobody
            raise ConnectorError(f"{outbound.kind} {outbound.idempotency_key}: no tweet to reply to", permanent=True)
        if self.is_retry(outbound.idempotency_key):
            existing = self._find_sent(api, outbound.text, reply_to)
            if existing:
                log.info("x: %s was already posted as %s; not posting again", outbound.idempotency_key, existing)
                return SendResult(existing)
        try:
            body = api.call("post", self.client.create_tweet, text=outbound.text, in_reply_to_tweet_id=reply_to,
                            user_auth=True, resend_safe=False)
        except XRequestError as exc:
            if exc.status == 403 and "duplicate" in exc.detail.lower():
                existing = self._find_sent(api, outbound.text, reply_to)
                log.info("x: %s is a duplicate of our tweet %s; taken as sent", outbound.idempotency_key, existing)
                return SendResult(existing)
            raise
        return SendResult(str((body.get("data") or {}).get("id") or "") or None)

    def _dm(self, api: _Api, outbound: Outbound) -> SendResult:
        if not outbound.to:
            raise ConnectorError("a direct message needs the recipient's user id", permanent=True)
        if self.is_retry(outbound.idempotency_key):  # X has no idempotency key for DMs either
            existing = self._find_sent_dm(api, outbound.to, outbound.text)
            if existing:
                log.info("x: %s was already sent as DM %s; not sending again", outbound.idempotency_key, existing)
                return SendResult(existing)
        body = api.call("dm", self.client.create_direct_message, participant_id=outbound.to, text=outbound.text,
                        user_auth=True, resend_safe=False)
        return SendResult(str((body.get("data") or {}).get("dm_event_id") or "") or None)

    def _find_sent_dm(self, api: _Api, to: str, text: str) -> str | None:
        """Our DM with this text to `to`, among the account's newest 100 DM events."""
        if self._me is None:
            self._me = str((api.call("users/me", self.client.get_me, user_auth=True).get("data") or {}).get("id"))
        body = api.call("dms", self.client.get_direct_message_events, dm_event_fields=DM_EVENT_FIELDS,
                        event_types="MessageCreate", max_results=100, user_auth=True)
        conversation = "-".join(sorted((self._me, str(to)), key=lambda i: int(i) if i.isdigit() else 0))
        wanted = " ".join(text.split())
        for event in body.get("data") or []:
            if (str(event.get("sender_id")) == self._me and event.get("dm_conversation_id") == conversation
                    and " ".join(str(event.get("text", "")).split()) == wanted):
                return str(event["id"])
        return None

    def _find_sent(self, api: _Api, text: str, reply_to: str | None) -> str | None:
        """Our tweet with this text answering `reply_to`, among the bot's newest 100."""
        if self._me is None:
            self._me = str((api.call("users/me", self.client.get_me, user_auth=True).get("data") or {}).get("id"))
        body = api.call("timeline", self.client.get_users_tweets, self._me, max_results=100,
                        tweet_fields=["referenced_tweets", "conversation_id"], user_auth=True)
        wanted = _comparable(text)
        for tweet in body.get("data") or []:
            replied = _replied_to(tweet)
            same_target = replied[:1] == [reply_to] if reply_to else not replied
            if same_target and _comparable(tweet.get("text", "")) == wanted:
                return str(tweet["id"])
        return None

    def _sleep(self, seconds: float) -> bool:
        # A worker does not sit out a long rate-limit window: the row is retried later.
        if seconds > self.max_wait:
            raise Stopped(f"posting to X blocked for {seconds:.0f} s", seconds)
        time.sleep(seconds)
        return False


def _comparable(text: str) -> str:
    """Text as X shows it back: links become t.co links, leading @names may be added."""
    text = html.unescape(text)
    text = re.sub(r"https?://\S+", "<link>", text)
    text = re.sub(r"^(@\w+\s+)+", "", text.strip())
    return " ".join(text.split())
