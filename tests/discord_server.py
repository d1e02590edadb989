"""A local Discord: REST routes and a websocket gateway the unmodified discord.py talks to.

It holds one guild laid out like the seed's server (categories Announcements, General
Discussion, Support Tickets, Feature Requests, Bug Reports and Documentation, a text
channel in each and a forum under Support Tickets), its users, messages, threads and
DM channels. Payload shapes follow Discord's API docs. What it does like Discord:

- gateway: HELLO, heartbeat ACK, IDENTIFY -> READY + GUILD_CREATE, dispatches with
  sequence numbers, RESUME (replays what the session missed, then RESUMED) or
  INVALID_SESSION when the session is gone; `drop()` closes every socket, optionally
  forgetting the sessions so that RESUME is refused. Guild message content is blanked
  for a session without the message content intent unless the bot is mentioned.
- REST: users/@me, the application, gateway, channels, guild channels, message
  history (before/after/limit, newest first), message create (nonce + enforce_nonce
  dedupe returns the first message), threads from messages (error 160004 the second
  time), DM channels; 403 Missing Access / 404 Unknown Channel like Discord's.
- every request body the bot sent is kept in `requests` for checking against the
  OpenAPI spec.

Run it in a background thread: `with DiscordServer() as server: ...`; the test side's
methods (`post`, `edit`, `delete`, `drop`, ...) are thread-safe.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

EPOCH_MS = 1_420_070_400_000
MESSAGE_CONTENT = 1 << 15
THREAD_TYPES = {10, 11, 12}

GUILD_ID = "1200000000000000000"
APP_ID = "1100000000000000001"
BOT = {"id": APP_ID, "username": "TRKV Bot", "discriminator": "0", "global_name": None, "avatar": None, "bot": True,
       "public_flags": 0, "flags": 0, "primary_guild": None}
ME = dict(BOT, mfa_enabled=False, locale="en-US")  # GET /users/@me adds the account's own fields
TOKEN = "test-bot-token"

CATEGORIES = {  # category name -> (category id, its text channel's name, channel id)
    "Announcements": ("1200000000000000010", "announcements", "1200000000000000011"),
    "General Discussion": ("1200000000000000020", "general", "1200000000000000021"),
    "Support Tickets": ("1200000000000000030", "support", "1200000000000000031"),
    "Feature Requests": ("1200000000000000040", "feature-requests", "1200000000000000041"),
    "Bug Reports": ("1200000000000000050", "bug-reports", "1200000000000000051"),
    "Documentation": ("1200000000000000060", "docs", "1200000000000000061"),
}
FORUM_ID = "1200000000000000032"  # "help-forum" under Support Tickets


def channel_id(name: str) -> str:
    if name == "help-forum":
        return FORUM_ID
    for _, channel_name, cid in CATEGORIES.values():
        if channel_name == name:
            return cid
    raise KeyError(name)


def user(uid: str, username: str, global_name: str | None = None) -> dict:
    return {"id": uid, "username": username, "discriminator": "0", "global_name": global_name, "avatar": None,
            "public_flags": 0, "flags": 0, "primary_guild": None}


ADA = user("1300000000000000001", "ada", "Ada Lovelace")
BO = user("1300000000000000002", "bo", "Bo")
OTHER_BOT = dict(user("1300000000000000009", "statusbot"), bot=True)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py does not take "; charset=utf-8".
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status)


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    events: list[dict] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None


class DiscordServer:
    def __init__(self) -> None:
        self._ids = itertools.count()
        self._last_id = 0
        self.channels: dict[str, dict] = {}
        self.messages: dict[str, list[dict]] = {}
        self.sessions: dict[str, Session] = {}
        self.requests: list[dict] = []  # {"method", "path", "json", "status", "response"}
        self.forbidden: set[str] = set()  # channel ids that answer 403 Missing Access
        self.identifies = 0
        self.gateway_down = False  # True: the gateway answers 503, as during an outage
        self.rate_limited = 0  # the next N message creations answer 429, as Discord does
        self.resumes: list[bool] = []  # one per RESUME: accepted or refused
        self.callbacks: dict[str, dict] = {}  # interaction id -> the bot's response (Discord: only the first)
        self.interaction_types: dict[str, int] = {}
        self.interaction_channels: dict[str, str] = {}
        self.followups: dict[str, list[dict]] = {}  # interaction id -> follow-up messages (after a deferral)
        self.commands: dict[str, list[dict]] = {}  # guild id ("" for global) -> the bot's application commands
        self._sockets: set[web.WebSocketResponse] = set()
        self._build_guild()

    # --- lifecycle -------------------------------------------------------------

    def __enter__(self) -> DiscordServer:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._server_thread = threading.Thread(target=self._serve, args=(ready,), daemon=True, name="discord-server")
        self._server_thread.start()
        if not ready.wait(30):
            raise RuntimeError("the local Discord server did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.call(self._shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._server_thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        await self.runner.cleanup()

    def call(self, coro: Any, timeout: float = 300) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- state -----------------------------------------------------------------

    def next_id(self) -> str:
        candidate = (int(time.time() * 1000) - EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    def _build_guild(self) -> None:
        position = itertools.count()
        for name, (cat_id, channel_name, cid) in CATEGORIES.items():
            self._add_channel({"id": cat_id, "type": 4, "name": name, "position": next(position), "parent_id": None})
            kind = 5 if name == "Announcements" else 0
            self._add_channel({"id": cid, "type": kind, "name": channel_name, "position": next(position),
                               "parent_id": cat_id, "topic": None, "nsfw": False, "last_message_id": None,
                               "rate_limit_per_user": 0})
        self._add_channel({"id": FORUM_ID, "type": 15, "name": "help-forum", "position": next(position),
                           "parent_id": CATEGORIES["Support Tickets"][0], "topic": None, "nsfw": False,
                           "last_message_id": None, "rate_limit_per_user": 0, "available_tags": [],
                           "default_reaction_emoji": None, "flags": 0})

    def _add_channel(self, data: dict) -> dict:
        data = {"guild_id": GUILD_ID, "permission_overwrites": [], **data}
        self.channels[data["id"]] = data
        self.messages.setdefault(data["id"], [])
        return data

    def _guild(self) -> dict:
        guild_channels = [c for c in self.channels.values() if c["type"] not in THREAD_TYPES and c["type"] != 1]
        threads = [c for c in self.channels.values() if c["type"] in THREAD_TYPES]
        return {
            "id": GUILD_ID, "name": "TRKV Support", "icon": None, "owner_id": ADA["id"], "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "features": [], "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0,
            "preferred_locale": "en-US", "roles": [{"id": GUILD_ID, "name": "@everyone", "permissions": "0",
                                                    "position": 0, "color": 0, "hoist": False, "managed": False,
                                                    "mentionable": False, "flags": 0}],
            "emojis": [], "stickers": [], "member_count": 3, "large": False, "unavailable": False,
            "joined_at": "2026-01-01T00:00:00+00:00", "members": [], "voice_states": [], "presences": [],
            "channels": guild_channels, "threads": threads, "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    # --- the test side (thread-safe) ------------------------------------------

    def post(self, channel: str, author: dict, content: str, **extra: Any) -> dict:
        """A user posts `content` in a channel (a name, a channel/thread/DM id)."""
        return self.call(self._post(self._resolve(channel), author, content, extra))

    def burst(self, channel: str, author: dict, contents: list[str]) -> list[dict]:
        """Post many messages back to back (the gateway pushes them as fast as it can)."""
        cid = self._resolve(channel)

        async def run() -> list[dict]:
            return [await self._post(cid, author, content, {}) for content in contents]

        return self.call(run())

    def post_forum(self, author: dict, title: str, content: str) -> dict:
        """A user opens a post in help-forum: a thread whose first message has its id."""
        return self.call(self._post_forum(author, title, content))

    def dm_channel(self, author: dict) -> str:
        return self.call(self._dm_channel(author["id"]))["id"]

    def edit(self, message: dict, content: str) -> None:
        self.call(self._edit(message, content))

    def delete(self, message: dict) -> None:
        self.call(self._delete(message))

    def press(self, message: dict, presser: dict, custom_id: str) -> str:
        """`presser` clicks a button of `message`: an INTERACTION_CREATE (type 3) on the gateway;
        the bot's answer arrives at POST /interactions/{id}/{token}/callback (in `callbacks`)."""
        return self.call(self._press(message, presser, custom_id))

    async def _press(self, message: dict, presser: dict, custom_id: str) -> str:
        return await self._interaction(self.channels[message["channel_id"]], presser, 3,
                                       {"custom_id": custom_id, "component_type": 2}, message=message)

    def slash(self, channel: str, asker: dict, name: str, **options: str) -> str:
        """`asker` runs `/name option:value` in a channel: an INTERACTION_CREATE (type 2,
        APPLICATION_COMMAND) on the gateway, for a command the bot registered (in this guild,
        else globally); Discord offers no other. The answer arrives in `callbacks`."""
        return self.call(self._slash(self._resolve(channel), asker, name, options))

    async def _slash(self, cid: str, asker: dict, name: str, options: dict) -> str:
        command = next((c for c in self.commands.get(GUILD_ID, []) if c["name"] == name), None) or \
            next((c for c in self.commands.get("", []) if c["name"] == name), None)
        if command is None:
            raise AssertionError(f"the bot registered no /{name} command; Discord would not offer it")
        data = {"id": command["id"], "name": name, "type": 1,
                "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
                **({"guild_id": command["guild_id"]} if command.get("guild_id") else {})}
        return await self._interaction(self.channels[cid], asker, 2, data)

    async def _interaction(self, channel: dict, who: dict, kind: int, data: dict, message: dict | None = None) -> str:
        iid = self.next_id()
        self.interaction_types[iid], self.interaction_channels[iid] = kind, channel["id"]
        member = {"member": {"user": who, "roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False,
                             "flags": 0, "permissions": "0"}} if channel.get("guild_id") else {"user": who}
        await self._dispatch("INTERACTION_CREATE", {
            "id": iid, "application_id": APP_ID, "type": kind, "token": f"itoken-{iid}", "version": 1,
            "data": data, "channel_id": channel["id"], "channel": channel, "locale": "en-US", "app_permissions": "0",
            "entitlements": [], "attachment_size_limit": 8388608, "authorizing_integration_owners": {},
            "context": 0 if channel.get("guild_id") else 1, **member, **({"message": message} if message else {}),
            **({"guild_id": channel["guild_id"], "guild_locale": "en-US"} if channel.get("guild_id") else {})})
        return iid

    def drop(self, refuse_resume: bool = False) -> None:
        """Close every gateway socket; with `refuse_resume` the sessions are forgotten."""
        self.call(self._drop(refuse_resume))

    def history(self, channel: str) -> list[dict]:
        return self.call(self._copy(self.messages.get(self._resolve(channel), [])))

    def sent_by_bot(self) -> list[dict]:
        return self.call(self._copy([m for ms in self.messages.values() for m in ms if m["author"]["id"] == BOT["id"]]))

    def connected(self) -> int:
        return self.call(self._count_live())

    def wait(self, predicate: Any, what: str, timeout: float = 60) -> Any:
        """A hang guard, not a speed check: poll `predicate` until it is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def _resolve(self, channel: str) -> str:
        return channel if channel.isdigit() else channel_id(channel)

    async def _copy(self, value: Any) -> Any:
        return json.loads(json.dumps(value))

    async def _count_live(self) -> int:
        return sum(1 for s in self.sessions.values() if s.ws is not None and not s.ws.closed)

    # --- messages, threads, DMs ----------------------------------------------------

    def _message(self, channel: dict, author: dict, content: str, extra: dict) -> dict:
        mentions = [u for u in (BOT, ADA, BO) if f"<@{u['id']}>" in content]
        message = {
            "id": extra.pop("id", None) or self.next_id(), "channel_id": channel["id"], "author": author,
            "content": content, "timestamp": _now_iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": "@everyone" in content, "mentions": mentions, "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": [],
        }
        message.update(extra)
        if channel.get("guild_id"):
            message["guild_id"] = channel["guild_id"]
        return message

    async def _post(self, cid: str, author: dict, content: str, extra: dict) -> dict:
        channel = self.channels[cid]
        message = self._message(channel, author, content, dict(extra))
        self.messages[cid].append(message)
        channel["last_message_id"] = message["id"]
        if channel["type"] in THREAD_TYPES:
            channel["message_count"] = channel.get("message_count", 0) + 1
            channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        event = dict(message)
        if channel.get("guild_id"):
            event["member"] = {"roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                               "flags": 0}
        await self._dispatch("MESSAGE_CREATE", event)
        return message

    def _thread(self, thread_id: str, parent: dict, name: str, owner: str) -> dict:
        return self._add_channel({
            "id": thread_id, "type": 11, "name": name[:100], "parent_id": parent["id"], "owner_id": owner,
            "message_count": 0, "member_count": 1, "total_message_sent": 0, "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0, "thread_metadata": {"archived": False, "auto_archive_duration": 10080, "locked": False,
                                            "archive_timestamp": _now_iso(), "create_timestamp": _now_iso()},
        })

    async def _post_forum(self, author: dict, title: str, content: str) -> dict:
        thread = self._thread(self.next_id(), self.channels[FORUM_ID], title, author["id"])
        await self._dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return await self._post(thread["id"], author, content, {"id": thread["id"]})

    async def _dm_channel(self, user_id: str) -> dict:
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user_id:
                return channel
        recipient = next((u for u in (ADA, BO) if u["id"] == user_id), None)
        if recipient is None:
            raise KeyError(user_id)
        channel = {"id": self.next_id(), "type": 1, "last_message_id": None, "recipients": [recipient],
                   "flags": 0}
        self.channels[channel["id"]] = channel
        self.messages[channel["id"]] = []
        return channel

    async def _edit(self, message: dict, content: str) -> None:
        stored = next(m for m in self.messages[message["channel_id"]] if m["id"] == message["id"])
        stored["content"], stored["edited_timestamp"] = content, _now_iso()
        await self._dispatch("MESSAGE_UPDATE", dict(stored))

    async def _delete(self, message: dict) -> None:
        cid = message["channel_id"]
        self.messages[cid] = [m for m in self.messages[cid] if m["id"] != message["id"]]
        event = {"id": message["id"], "channel_id": cid}
        if self.channels[cid].get("guild_id"):
            event["guild_id"] = GUILD_ID
        await self._dispatch("MESSAGE_DELETE", event)

    # --- gateway ---------------------------------------------------------------

    async def _dispatch(self, event: str, data: dict) -> None:
        for session in list(self.sessions.values()):
            payload = data
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not self._may_read(session, data):
                payload = dict(data, content="", embeds=[], attachments=[])
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": payload}
            session.events.append(frame)
            if session.ws is not None and not session.ws.closed:
                await session.ws.send_str(json.dumps(frame))

    @staticmethod
    def _may_read(session: Session, message: dict) -> bool:
        if session.intents & MESSAGE_CONTENT or not message.get("guild_id"):
            return True
        return any(u["id"] == BOT["id"] for u in message.get("mentions") or [])

    async def _drop(self, refuse_resume: bool) -> None:
        if refuse_resume:
            self.sessions.clear()
        for ws in list(self._sockets):
            await ws.close(code=4000, message=b"dropped by the test")

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    await self._identify(ws, data)
                elif op == 6:
                    await self._resume(ws, data)
        finally:
            self._sockets.discard(ws)
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict) -> None:
        if data.get("token") != TOKEN:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        session = Session(id=f"session-{self.next_id()}", intents=int(data.get("intents") or 0), ws=ws)
        self.sessions[session.id] = session
        ready = {"v": 10, "user": BOT, "guilds": [{"id": GUILD_ID, "unavailable": True}], "session_id": session.id,
                 "resume_gateway_url": self.gateway_url, "shard": [0, 1], "private_channels": [],
                 "relationships": [], "application": {"id": APP_ID, "flags": 0}}
        for event, payload in (("READY", ready), ("GUILD_CREATE", self._guild())):
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": payload}
            session.events.append(frame)
            await ws.send_str(json.dumps(frame))

    async def _resume(self, ws: web.WebSocketResponse, data: dict) -> None:
        session = self.sessions.get(data.get("session_id"))
        if session is None or data.get("token") != TOKEN:
            self.resumes.append(False)
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        self.resumes.append(True)
        session.ws = ws
        for frame in session.events:
            if frame["s"] > int(data.get("seq") or 0):
                await ws.send_str(json.dumps(frame))
        session.seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}))

    # --- REST ------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        response = await self._answer(request)
        if self.requests and self.requests[-1].get("response", ...) is ...:
            self.requests[-1].update(status=response.status, response=json.loads(response.body or b"null"))
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        parts = request.match_info["path"].strip("/").split("/")
        if parts[0] == "interactions" and parts[3:] == ["callback"] and parts[2] == f"itoken-{parts[1]}":
            if parts[1] in self.callbacks:  # no bot token: the interaction's own token authorizes it
                return _error(400, 40060, "Interaction has already been acknowledged.")
            body = self.callbacks[parts[1]] = await request.json()
            ephemeral = bool((body.get("data") or {}).get("flags", 0) & 64)
            return _json({"interaction": {"id": parts[1], "type": self.interaction_types.get(parts[1], 3), "response_message_id": self.next_id(),
                                          "response_message_loading": False, "response_message_ephemeral": ephemeral}})
        if parts[0] == "webhooks" and len(parts) == 3 and parts[1] == APP_ID and request.method == "POST":
            return await self._followup(parts[2].removeprefix("itoken-"), await request.json())
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _error(401, 0, "401: Unauthorized")
        body = await request.json() if request.can_read_body else None
        path = "/" + request.match_info["path"]
        parts = path.strip("/").split("/")
        self.requests.append({"method": request.method, "path": path, "json": body})
        method = request.method
        if path == "/users/@me" and method == "GET":
            return _json(ME)
        if path in ("/oauth2/applications/@me", "/applications/@me"):
            return _json(self._application())
        if path in ("/gateway", "/gateway/bot"):
            return _json({"url": self.gateway_url, "shards": 1,
                          "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                  "max_concurrency": 1}})
        if path == "/users/@me/channels" and method == "POST":
            try:
                return _json(await self._dm_channel(str(body.get("recipient_id"))))
            except KeyError:
                return _error(400, 50033, "Invalid Recipient(s)")
        if parts[:1] == ["applications"] and parts[-1:] == ["commands"] and len(parts) in (3, 5):
            return self._commands_route(method, parts[1], parts[3] if len(parts) == 5 else "", body)
        if parts[:1] == ["guilds"] and parts[2:] == ["channels"]:
            return _json([c for c in self.channels.values() if c.get("guild_id") == parts[1]
                          and c["type"] not in THREAD_TYPES])
        if parts[:1] == ["channels"] and len(parts) >= 2:
            return await self._channel_route(request, parts[1], parts[2:], body)
        return _error(404, 0, "404: Not Found")

    async def _followup(self, iid: str, body: dict) -> web.Response:
        """A follow-up message to an interaction answered already (e.g. deferred); the
        interaction's token authorizes it."""
        if iid not in self.callbacks:
            return _error(404, 10015, "Unknown Webhook")
        self.followups.setdefault(iid, []).append(body)
        channel = self.channels[self.interaction_channels[iid]]
        return _json(self._message(channel, BOT, body.get("content") or "", {"flags": body.get("flags", 0),
                                                                             "webhook_id": APP_ID}))

    def _commands_route(self, method: str, app_id: str, guild_id: str, body: Any) -> web.Response:
        """GET, or PUT (bulk overwrite): the listed commands replace all others; one that
        keeps its name keeps its id, as Discord does."""
        if app_id != APP_ID or (guild_id and guild_id != GUILD_ID):
            return _error(403, 50001, "Missing Access")
        if method == "GET":
            return _json(self.commands.get(guild_id, []))
        if method != "PUT" or not isinstance(body, list):
            return _error(405, 0, "405: Method Not Allowed")
        before = {c["name"]: c for c in self.commands.get(guild_id, [])}
        saved = []
        for command in body:
            old = before.get(command.get("name"))
            saved.append({"id": old["id"] if old else self.next_id(), "application_id": APP_ID,
                          "version": self.next_id(), "type": command.get("type", 1), "name": command["name"],
                          "description": command.get("description", ""), "options": command.get("options", []),
                          "default_member_permissions": command.get("default_member_permissions"),
                          "nsfw": bool(command.get("nsfw")), **({"guild_id": guild_id} if guild_id else {})})
        self.commands[guild_id] = saved
        return _json(saved)

    def _application(self) -> dict:
        return {"id": APP_ID, "name": "TRKV Bot", "icon": None, "description": "", "bot_public": False,
                "bot_require_code_grant": False, "owner": ADA, "verify_key": "0" * 64, "flags": 0,
                "summary": "", "team": None, "interactions_endpoint_url": None}

    async def _channel_route(self, request: web.Request, cid: str, rest: list[str], body: Any) -> web.Response:
        channel = self.channels.get(cid)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if cid in self.forbidden:
            return _error(403, 50001, "Missing Access")
        if not rest and request.method == "GET":
            return _json(channel)
        if rest == ["messages"] and request.method == "GET":
            return _json(self._list_messages(cid, request.query))
        if rest == ["messages"] and request.method == "POST":
            return await self._create_message(channel, body or {})
        if len(rest) == 3 and rest[0] == "messages" and rest[2] == "threads" and request.method == "POST":
            return await self._thread_from_message(channel, rest[1], body or {})
        return _error(405, 0, "405: Method Not Allowed")

    def _list_messages(self, cid: str, query: Any) -> list[dict]:
        limit = min(int(query.get("limit", 50)), 100)
        ordered = sorted(self.messages[cid], key=lambda m: int(m["id"]))
        if "after" in query:
            picked = [m for m in ordered if int(m["id"]) > int(query["after"])][:limit]
        else:
            before = int(query.get("before", 1 << 63))
            picked = [m for m in ordered if int(m["id"]) < before][-limit:]
        # Newest first, as Discord answers; REST message objects carry no guild_id or member.
        return [{k: v for k, v in m.items() if k not in ("guild_id", "member")} for m in reversed(picked)]

    async def _create_message(self, channel: dict, body: dict) -> web.Response:
        if self.rate_limited > 0:
            self.rate_limited -= 1
            headers = {"Content-Type": "application/json", "Retry-After": "1", "X-RateLimit-Limit": "5",
                       "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.05",
                       "X-RateLimit-Bucket": "messages", "X-RateLimit-Scope": "user",
                       "Via": "1.1 google"}  # discord.py takes a 429 without Via for a Cloudflare ban
            body_429 = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
            return web.Response(body=json.dumps(body_429).encode(), status=429, headers=headers)
        content = body.get("content") or ""
        if not content and not body.get("embeds"):
            return _error(400, 50006, "Cannot send an empty message")
        if len(content) > 2000:
            return _error(400, 50035, "Invalid Form Body")
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            return _error(400, 50035, "Invalid Form Body: nonce too long")
        if nonce is not None and body.get("enforce_nonce"):
            for message in self.messages[channel["id"]]:
                if message.get("nonce") == nonce and message["author"]["id"] == BOT["id"]:
                    return _json(message)  # Discord answers a repeated nonce with the first message
        extra = {"components": body.get("components") or [], **({"nonce": nonce} if nonce is not None else {})}
        message = await self._post(channel["id"], BOT, content, extra)
        return _json(message)

    async def _thread_from_message(self, channel: dict, message_id: str, body: dict) -> web.Response:
        if not any(m["id"] == message_id for m in self.messages[channel["id"]]):
            return _error(404, 10008, "Unknown Message")
        if message_id in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        thread = self._thread(message_id, channel, str(body.get("name") or "thread"), BOT["id"])
        await self._dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return _json(thread, 201)
