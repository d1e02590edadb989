"""X (Twitter) receiving: `XReceiver` polls the bot's mentions timeline, a recent search
and (with the user's keys) direct messages, within a `RateBudget` (connectors/x/budget.py)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import tweepy

from connectors.base import ConnectorError, Inbound, Sink
from connectors.x.budget import RateBudget, Stopped
from connectors.x.http import DM_EVENT_FIELDS, EXPANSIONS, MENTIONS_KEPT, TWEET_FIELDS, USER_FIELDS, Api, XRequestError
from connectors.x.parse import parse_page, parse_tweet, snowflake_time

log = logging.getLogger(__name__)


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
        api = Api(self.budget, sleep=self.sleep, trouble=lambda detail: self._report(sink, "degraded", detail))
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

    def _poll_dms(self, api: Api, sink: Sink, incomplete: list[str]) -> int:
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

    def _whoami(self, api: Api) -> str:
        if self.user_auth:
            body = api.call("users/me", self.client.get_me, user_auth=True)
        else:
            body = api.call("users", self.client.get_user, username=self.bot_username)
        data = body.get("data") or {}
        if not data.get("id"):
            raise ConnectorError(f"X does not know the account @{self.bot_username}", permanent=True)
        self.bot_username = data.get("username") or self.bot_username
        return str(data["id"])

    def _fetch(self, api: Api, sink: Sink, query: str, since_id: str | None) -> tuple[list[dict], str | None]:
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

    def _recover_gap(self, api: Api, sink: Sink, pages: list[dict], since_id: str | None) -> list[dict]:
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
