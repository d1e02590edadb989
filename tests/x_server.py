"""A local server that speaks the X API v2 over HTTP, for the unmodified tweepy client.

It keeps a small world (users, tweets, direct messages) and answers the routes the hub
uses: users/me, user by username, the mentions timeline and a user's tweets (with
expansions, tweet.fields, since_id/until_id/start_time and next_token pagination, the
mentions timeline keeping only its newest 800), recent search (a subset of the query
language, the last 7 days, an older since_id refused), creating tweets (replies thread
by conversation_id; duplicate text is refused with a 403, as X does), sending direct
messages (refused with X's 403 to a user whose DMs are closed: `close_dms`) and listing
the account's DM events (sent and received, newest first, 30 days, dm_event.fields, the
sender_id expansion, pagination_token).

Every endpoint has a 15-minute window with a limit and answers with
`x-rate-limit-limit/-remaining/-reset`; a request past the limit is counted in
`over_budget` and answered 429. Failures can be queued per endpoint: "429" (with the
headers, which also close the window until the reset), "429-bare" (no headers),
"503", "503-after" (the request takes effect, the answer is a 503), "400", "401",
"403", "drop" (the connection closes without an answer), or
"ok" (answered normally: a failure can be aimed at the second page). `script`
serves a recorded body (from ../shared/data/tweepy-cassettes/decoded_v2/) verbatim.
The clock is injectable: windows and created_at follow it.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.shared_data import shared_data

TWITTER_EPOCH_MS = 1288834974657
WINDOW = 900
MENTIONS_KEPT = 800
DEFAULT_LIMITS = {"mentions": 450, "search": 450, "post": 200, "users": 300, "users/me": 75, "timeline": 900, "dm": 200,
                  "dm_events": 15}
SEARCH_DAYS = 7
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
SUSPENDED = "Your account is suspended and is not permitted to access this feature."
# A DM to someone whose DMs are closed (or who does not follow the account): X answers
# 403 with a problem-details body, the shape of every v2 403 (e.g. its "You are not
# permitted to attach this media to a DM event."), carrying the DM permission message.
DMS_CLOSED = "You cannot send messages to this user."


def _snowflake_time(tweet_id: str) -> float:
    return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000


def _problem(status: int, title: str, detail: str) -> dict:
    """X's error body (RFC 7807 problem details)."""
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


def _invalid(parameter: str, value: str, message: str) -> dict:
    return {"errors": [{"parameters": {parameter: [value]}, "message": message}], "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"}


def recorded(name: str, index: int = 0) -> dict:
    """The JSON body of one recorded interaction in tweepy's cassettes."""
    interactions = json.loads(shared_data("tweepy-cassettes", "decoded_v2", f"{name}.json").read_text())
    body = interactions[index]["response_json"]
    return json.loads(body) if isinstance(body, str) else body


class XServer:
    def __init__(self, *, bot_username: str = "trkvbot", clock: Callable[[], float] = time.time,
                 limits: dict[str, int] | None = None):
        self.clock = clock
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.lock = threading.RLock()
        self.users: dict[str, dict] = {}
        self.tweets: dict[str, dict] = {}
        self.dms: list[dict] = []
        self.dm_events: list[dict] = []  # both directions, as GET /2/dm_events lists them
        self.dms_closed: set[str] = set()  # user ids that accept no DM from the bot: 403
        self.requests: list[dict] = []  # every request: endpoint, method, path, query, at, status
        self.over_budget = 0  # requests that arrived when the endpoint's window was used up
        self.failures: dict[str, deque] = defaultdict(deque)
        self.scripted: dict[str, deque] = defaultdict(deque)
        self._windows: dict[str, list[float]] = {}  # endpoint -> [reset_at, used]
        self._ids = itertools.count(1)
        self._last_id = 0
        self.bot = self.user(bot_username, "TRKV Support")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> XServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- the world -------------------------------------------------------------------

    def user(self, username: str, name: str | None = None) -> dict:
        with self.lock:
            user_id = str(10_000 + next(self._ids))
            self.users[user_id] = {"id": user_id, "name": name or username.title(), "username": username}
            return self.users[user_id]

    def tweet(self, author: dict, text: str, *, reply_to: str | None = None, retweet_of: str | None = None) -> dict:
        """A tweet posted on X by `author` (a user dict)."""
        with self.lock:
            tweet_id = self._snowflake()
            tweet = {
                "id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id], "author_id": author["id"],
                "conversation_id": tweet_id,
                "created_at": datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
            mentions = [{"start": m.start(), "end": m.end(), "username": m.group(1)}
                        for m in re.finditer(r"@(\w+)", text)]
            if mentions:
                tweet["entities"] = {"mentions": mentions}
            if reply_to:
                parent = self.tweets[reply_to]
                tweet["conversation_id"] = parent["conversation_id"]
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            if retweet_of:
                original = self.tweets[retweet_of]
                owner = self.users[original["author_id"]]["username"]
                prefix = f"RT @{owner}: "
                tweet["text"] = (prefix + original["text"])[:140]
                tweet["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
                shifted = [{**m, "start": m["start"] + len(prefix), "end": m["end"] + len(prefix)}
                           for m in original.get("entities", {}).get("mentions", [])]
                tweet["entities"] = {"mentions": [{"start": 3, "end": 4 + len(owner), "username": owner}, *shifted]}
            self.tweets[tweet_id] = tweet
            return tweet

    def dm(self, sender: dict, text: str, *, to: dict | None = None) -> dict:
        """A direct message `sender` sends (to the bot unless `to`)."""
        with self.lock:
            recipient = to or self.bot
            event_id = self._snowflake()
            event = {"id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender["id"],
                     "dm_conversation_id": _dm_conversation(sender["id"], recipient["id"]),
                     "created_at": datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
            self.dm_events.append(event)
            return event

    def close_dms(self, user: dict) -> None:
        """`user` accepts no direct message from the bot: a DM to them is refused with X's 403."""
        with self.lock:
            self.dms_closed.add(user["id"])

    def fail(self, endpoint: str, *kinds: str) -> None:
        """Answer the next requests to `endpoint` with these failures, in order."""
        with self.lock:
            self.failures[endpoint].extend(kinds)

    def script(self, endpoint: str, body: dict) -> None:
        """Answer the next request to `endpoint` with this body (a recorded one) as it is."""
        with self.lock:
            self.scripted[endpoint].append(body)

    def count(self, endpoint: str, status: int | None = None) -> int:
        return sum(1 for r in self.requests if r["endpoint"] == endpoint and (status is None or r["status"] == status))

    def replies_to(self, tweet_id: str) -> list[dict]:
        ref = {"type": "replied_to", "id": tweet_id}
        return [t for t in self.tweets.values() if ref in t.get("referenced_tweets", [])]

    def _snowflake(self) -> str:
        value = max(self._last_id + 1, (int(self.clock() * 1000) - TWITTER_EPOCH_MS) << 22)
        self._last_id = value
        return str(value)

    # --- requests --------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: dict | None, auth: str) -> tuple:
        """(status, headers, body or None to drop the connection)"""
        endpoint, route_args = _route(method, path)
        with self.lock:
            now = self.clock()
            record = {"endpoint": endpoint, "method": method, "path": path, "query": query, "at": now, "auth": auth}
            self.requests.append(record)
            if endpoint is None:
                record["status"] = 404
                return 404, {}, {"title": "Not Found Error", "detail": f"no route {path}", "status": 404}
            window = self._window(endpoint, now)
            window[1] += 1
            headers = self._rate_headers(endpoint, window)
            if window[1] > self.limits[endpoint]:
                self.over_budget += 1
                record["status"] = 429
                return 429, headers, _problem(429, "Too Many Requests", "Too Many Requests")
            kind = self.failures[endpoint].popleft() if self.failures[endpoint] else "ok"
            if kind == "503-after":  # done, but the answer is lost (X does this now and then)
                getattr(self, "_" + endpoint.replace("/", "_"))(route_args, query, body)
                kind = "503"
            if kind != "ok":
                status, headers, answer = self._failure(endpoint, kind, window, now, headers)
                record["status"] = status
                return status, headers, answer
            if self.scripted[endpoint]:
                record["status"] = 200
                return 200, headers, self.scripted[endpoint].popleft()
            status, answer = getattr(self, "_" + endpoint.replace("/", "_"))(route_args, query, body)
            record["status"] = status
            return status, headers, answer

    def _window(self, endpoint: str, now: float) -> list[float]:
        window = self._windows.get(endpoint)
        if window is None or now >= window[0]:
            window = self._windows[endpoint] = [now + WINDOW, 0]
        return window

    def _rate_headers(self, endpoint: str, window: list[float]) -> dict[str, str]:
        limit = self.limits[endpoint]
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(0, limit - int(window[1]))),
                "x-rate-limit-reset": str(math.ceil(window[0]))}

    def _failure(self, endpoint: str, kind: str, window: list[float], now: float, headers: dict) -> tuple:
        if kind == "429":  # X says: used up until the reset (a short one here)
            window[0], window[1] = now + 60, self.limits[endpoint]
            return 429, self._rate_headers(endpoint, window), _problem(429, "Too Many Requests", "Too Many Requests")
        if kind == "429-bare":
            return 429, {}, _problem(429, "Too Many Requests", "Too Many Requests")
        if kind == "503":
            return 503, {}, _problem(503, "Service Unavailable", "Service Unavailable")
        if kind == "401":
            return 401, {}, _problem(401, "Unauthorized", "Unauthorized")
        if kind == "403":
            return 403, {}, _problem(403, "Forbidden", SUSPENDED)
        if kind == "400":
            return 400, {}, _invalid("pagination_token", "x", "Invalid pagination token")
        if kind == "drop":
            return 0, {}, None
        raise ValueError(kind)

    # --- routes ----------------------------------------------------------------------

    def _users_me(self, args, query, body):
        return 200, {"data": dict(self.bot)}

    def _users(self, args, query, body):
        found = [u for u in self.users.values() if u["username"].lower() == args[0].lower()]
        if not found:
            detail = f"Could not find user with username: [{args[0]}]."
            return 200, {"errors": [{"detail": detail, "title": "Not Found Error"}]}
        return 200, {"data": dict(found[0])}

    def _mentions(self, args, query, body):
        user = self.users[args[0]]["username"].lower()
        tweets = [t for t in self.tweets.values()
                  if any(m["username"].lower() == user for m in t.get("entities", {}).get("mentions", []))]
        tweets = sorted(tweets, key=lambda t: int(t["id"]), reverse=True)[:MENTIONS_KEPT]
        return self._answer(self._page(tweets, query, "pagination_token"))

    def _timeline(self, args, query, body):
        tweets = [t for t in self.tweets.values() if t["author_id"] == args[0]]
        tweets.sort(key=lambda t: int(t["id"]), reverse=True)
        return self._answer(self._page(tweets[:3200], query, "pagination_token"))

    def _search(self, args, query, body):
        """Recent search: the last 7 days only; an older since_id is refused, as X does."""
        week_ago = self.clock() - SEARCH_DAYS * 86400
        since_id = query.get("since_id")
        if since_id and since_id.isdigit() and _snowflake_time(since_id) < week_ago:
            message = (f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created after "
                       f"{datetime.fromtimestamp(week_ago, UTC):%Y-%m-%dT%H:%MZ}.")
            return 400, _invalid("since_id", since_id, message)
        match = _search_matcher(query.get("query", ""), self.users)
        tweets = [t for t in self.tweets.values() if match(t) and _snowflake_time(t["id"]) >= week_ago]
        tweets.sort(key=lambda t: int(t["id"]), reverse=True)
        return self._answer(self._page(tweets, query, "next_token"))

    def _post(self, args, query, body):
        text = (body or {}).get("text") or ""
        if any(t["author_id"] == self.bot["id"] and t["text"] == text for t in self.tweets.values()):
            return 403, _problem(403, "Forbidden", DUPLICATE)
        reply_to = ((body or {}).get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and reply_to not in self.tweets:
            return 400, _invalid("reply.in_reply_to_tweet_id", reply_to, "The tweet you are replying to does not exist")
        tweet = self.tweet(self.bot, text, reply_to=reply_to)
        return 201, {"data": {"id": tweet["id"], "text": tweet["text"]}}

    def _dm(self, args, query, body):
        if args[0] in self.dms_closed:
            return 403, _problem(403, "Forbidden", DMS_CLOSED)
        text = (body or {}).get("text")
        event = self.dm(self.bot, text, to=self.users.get(args[0]) or {"id": args[0]})
        self.dms.append({"id": event["id"], "to": args[0], "text": text})
        return 201, {"data": {"dm_conversation_id": event["dm_conversation_id"], "dm_event_id": event["id"]}}

    def _dm_events(self, args, query, body):
        """The account's DM events of the last 30 days, newest first."""
        month_ago = self.clock() - 30 * 86400
        kinds = set(filter(None, query.get("event_types", "").split(","))) or {"MessageCreate"}
        events = [e for e in self.dm_events if e["event_type"] in kinds and _snowflake_time(e["id"]) >= month_ago]
        events.sort(key=lambda e: int(e["id"]), reverse=True)
        try:
            start = int(base64.b32decode(query["pagination_token"]).decode()) if query.get("pagination_token") else 0
        except ValueError:
            return 400, _invalid("pagination_token", query["pagination_token"], "Invalid pagination token")
        size = int(query.get("max_results", 100))
        page = events[start : start + size]
        if not page:
            return 200, {"meta": {"result_count": 0}}
        fields = set(filter(None, query.get("dm_event.fields", "").split(",")))
        data = [{k: v for k, v in e.items() if k in fields or k in ("id", "event_type", "text")} for e in page]
        answer: dict = {"data": data, "meta": {"result_count": len(page)}}
        if start + size < len(events):
            answer["meta"]["next_token"] = base64.b32encode(str(start + size).encode()).decode()
        if "sender_id" in set(query.get("expansions", "").split(",")):
            senders = {e["sender_id"] for e in page if e["sender_id"] in self.users}
            answer["includes"] = {"users": [dict(self.users[s]) for s in sorted(senders)]}
        return 200, answer

    @staticmethod
    def _answer(body: dict) -> tuple[int, dict]:
        return body.pop("status", 200), body

    def _page(self, tweets: list[dict], query: dict[str, str], token_param: str) -> dict:
        tweets = [t for t in tweets if _in_range(t, query)]
        try:
            start = int(base64.b32decode(query[token_param]).decode()) if query.get(token_param) else 0
        except ValueError:
            return {**_invalid(token_param, query[token_param], "Invalid pagination token"), "status": 400}
        size = int(query.get("max_results", 10))
        page = tweets[start : start + size]
        if not page:
            return {"meta": {"result_count": 0}}
        fields = set(filter(None, query.get("tweet.fields", "").split(",")))
        data = [_select(t, fields) for t in page]
        meta = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + size < len(tweets):
            meta["next_token"] = base64.b32encode(str(start + size).encode()).decode()
        answer = {"data": data, "meta": meta}
        includes = self._includes(page, set(filter(None, query.get("expansions", "").split(","))), fields)
        if includes:
            answer["includes"] = includes
        return answer

    def _includes(self, page: list[dict], expansions: set[str], fields: set[str]) -> dict:
        users: dict[str, dict] = {}
        tweets: dict[str, dict] = {}
        for tweet in page:
            if "author_id" in expansions:
                users[tweet["author_id"]] = self.users[tweet["author_id"]]
            if "in_reply_to_user_id" in expansions and tweet.get("in_reply_to_user_id") in self.users:
                users[tweet["in_reply_to_user_id"]] = self.users[tweet["in_reply_to_user_id"]]
            if "referenced_tweets.id" in expansions:
                for ref in tweet.get("referenced_tweets", []):
                    if ref["id"] in self.tweets:
                        tweets[ref["id"]] = _select(self.tweets[ref["id"]], fields)
                        if "referenced_tweets.id.author_id" in expansions:
                            author = self.tweets[ref["id"]]["author_id"]
                            users[author] = self.users[author]
        includes = {}
        if users:
            includes["users"] = [dict(u) for u in users.values()]
        if tweets:
            includes["tweets"] = list(tweets.values())
        return includes


def _dm_conversation(a: str, b: str) -> str:
    """X's id of a one-to-one DM conversation: both user ids, the smaller first."""
    return "-".join(sorted((str(a), str(b)), key=int))


def _route(method: str, path: str) -> tuple[str | None, tuple]:
    routes = [
        ("GET", r"/2/users/me", "users/me"),
        ("GET", r"/2/users/by/username/(\w+)", "users"),
        ("GET", r"/2/users/(\d+)/mentions", "mentions"),
        ("GET", r"/2/users/(\d+)/tweets", "timeline"),
        ("GET", r"/2/tweets/search/recent", "search"),
        ("POST", r"/2/tweets", "post"),
        ("POST", r"/2/dm_conversations/with/(\d+)/messages", "dm"),
        ("GET", r"/2/dm_events", "dm_events"),
    ]
    for verb, pattern, endpoint in routes:
        match = re.fullmatch(pattern, path)
        if verb == method and match:
            return endpoint, match.groups()
    return None, ()


def _select(tweet: dict, fields: set[str]) -> dict:
    """What X returns: id, text and edit history, plus the tweet.fields asked for."""
    return {k: v for k, v in tweet.items() if k in ("id", "text", "edit_history_tweet_ids") or k in fields}


def _in_range(tweet: dict, query: dict[str, str]) -> bool:
    tweet_id = int(tweet["id"])
    if query.get("since_id") and tweet_id <= int(query["since_id"]):
        return False
    if query.get("until_id") and tweet_id >= int(query["until_id"]):
        return False
    if query.get("start_time") and tweet["created_at"][:19] < query["start_time"][:19]:
        return False
    return True


def _search_matcher(query: str, users: dict[str, dict]) -> Callable[[dict], bool]:
    """A subset of X's query language: words (all must appear), @name, from:name, is:retweet,
    is:reply, conversation_id:ID, each negatable with a leading minus."""
    tests = []
    for term in query.split():
        negate = term.startswith("-")
        term = term.lstrip("-").lower()
        if term == "is:retweet":
            test = lambda t: any(r["type"] == "retweeted" for r in t.get("referenced_tweets", []))  # noqa: E731
        elif term == "is:reply":
            test = lambda t: any(r["type"] == "replied_to" for r in t.get("referenced_tweets", []))  # noqa: E731
        elif term.startswith("from:"):
            test = lambda t, name=term[5:]: users[t["author_id"]]["username"].lower() == name  # noqa: E731
        elif term.startswith("conversation_id:"):
            test = lambda t, cid=term[16:]: t["conversation_id"] == cid  # noqa: E731
        else:
            test = lambda t, word=term: word in t["text"].lower()  # noqa: E731
        tests.append((negate, test))
    return lambda tweet: all(test(tweet) != negate for negate, test in tests)


def _handler(server: XServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            auth = (self.headers.get("Authorization") or "").split(" ", 1)[0]
            status, headers, answer = server.handle(method, url.path, query, body, auth)
            if answer is None:  # "drop": close without an answer
                self.close_connection = True
                self.connection.shutdown(2)
                return
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler
