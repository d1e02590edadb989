"""Discord, live: the gateway receiver and the sender, on the unmodified discord.py.

Receiving. A `discord.Client` keeps the gateway session (heartbeats, RESUME,
reconnects with backoff) and the guild's channel cache. Raw MESSAGE_* frames are
queued in the order they arrive and handled by one consumer task, so messages are
submitted in order and each channel's cursor (the last message id handled there)
is saved only after the sink has committed them. Whenever the gateway says HELLO,
live events are held back until the session is ready (READY or RESUMED); then the
history API is read from every channel's cursor, and only after that backfill do
the held events continue (those the backfill already saw are skipped by id).

Sending. One REST call through discord.py's HTTP client (its rate-limit handling
included) per outbound message, with `nonce` derived from the outbox row's
idempotency key and `enforce_nonce`, so a resend after a crash is not posted twice.

Both read their endpoints from their constructor: `api_base` becomes
`discord.http.Route.BASE` and `gateway_url` `DiscordWebSocket.DEFAULT_GATEWAY`
(process-wide in discord.py; a proxy or a local test server stands in that way).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route, handle_message_parameters

from connectors import discord_buttons, discord_commands
from connectors.base import ConnectorError, Inbound, Outbound, SendResult, Sink
from connectors.discord_bot import DM_TYPES, THREAD_TYPES, normalize_routes, parse_change, parse_message, route

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1_420_070_400_000
NONCE_LENGTH = 25  # Discord rejects longer nonces
CONTENT_LIMIT = 2000
HISTORY_PAGE = 100
CHANGE_EVENTS = {"MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"}
THREAD_EXISTS = 160004  # "A thread has already been created for this message"


def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py at the configured REST base (with /api/v10) and gateway."""
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def snowflake_at(ms_since_epoch: float) -> int:
    return max(int(ms_since_epoch) - DISCORD_EPOCH_MS, 0) << 22


def nonce_for(idempotency_key: str) -> str:
    """A stable nonce of at most 25 characters for an outbox row's key."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:NONCE_LENGTH]


_MASS_MENTION = re.compile(r"@(everyone|here)")


def sanitize_mentions(text: str) -> str:
    """Customer text echoed back must not ping everyone: break @everyone / @here with
    a zero-width space (allowed_mentions stops the ping too; this stops the highlight)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def channel_info(channel: Any) -> dict:
    """The channel dict `parse_message` and `route` take, from a discord.py channel."""
    info: dict[str, Any] = {"id": str(channel.id), "type": channel.type.value, "name": getattr(channel, "name", None)}
    guild = getattr(channel, "guild", None)
    if guild is not None:
        info["guild_id"] = str(guild.id)
    category = getattr(channel, "category", None)
    if isinstance(channel, discord.Thread):
        info["parent_id"], info["owner_id"] = str(channel.parent_id), str(channel.owner_id)
        parent = channel.parent
        if parent is not None:
            info["parent_name"], info["parent_type"] = parent.name, parent.type.value
            category = parent.category
    if category is not None:
        info["category_id"], info["category"] = str(category.id), category.name
    return info


class _GatewayClient(discord.Client):
    """A Client that hands every dispatched event to `listener` synchronously, in
    gateway order, before discord.py schedules its own handlers."""

    def __init__(self, listener: Callable[[str, tuple], None], **options: Any):
        super().__init__(**options)
        self._listener = listener
        self.on_login: Callable[[], Any] | None = None  # a coroutine function: after login, before the gateway

    async def setup_hook(self) -> None:
        if self.on_login is not None:
            await self.on_login()

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        self._listener(event, args)
        super().dispatch(event, *args, **kwargs)


_HOLD, _SYNC = ("hold", None), ("sync", None)


class DiscordReceiver:
    """Receives a guild's support messages and DMs; see the module docstring."""

    name = "discord"

    def __init__(
        self,
        token: str,
        guild_id: str | None = None,
        *,
        api_base: str = "https://discord.com/api/v10",
        gateway_url: str = "wss://gateway.discord.gg",
        routes: dict[str, str] | None = None,
        backfill_hours: float = 0.0,
        submit_batch: Callable[[list[Inbound]], Any] | None = None,
        apply_changes: Callable[[list[dict]], Any] | None = None,
        batch_size: int = 500,
        guild_ready_timeout: float = 2.0,
        answer_button: Callable[[str, int, str], str] | None = None,  # survey buttons (discord_buttons.py)
        answer_command: discord_commands.Answer | None = None,  # slash commands (discord_commands.py)
    ):
        self.token = token
        self.guild_id = str(guild_id) if guild_id else None
        self.api_base, self.gateway_url = api_base, gateway_url
        self.routes = normalize_routes(routes)
        self.backfill_hours = backfill_hours
        self.submit_batch = submit_batch
        self.apply_changes = apply_changes
        self.batch_size = batch_size
        self.guild_ready_timeout = guild_ready_timeout
        self.answer_button = answer_button
        self.answer_command = answer_command
        configure_endpoints(api_base, gateway_url)

    # --- the thread the runner gives us ------------------------------------------

    def run(self, sink: Sink, stop: threading.Event) -> None:
        configure_endpoints(self.api_base, self.gateway_url)
        asyncio.run(self._main(sink, stop))

    async def _main(self, sink: Sink, stop: threading.Event) -> None:
        self.sink = sink
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cursors: dict[str, str | None] = {}
        self.changes_pending = False
        self.dm_channels: set[str] = set(json.loads(sink.load_cursor("discord:dm_channels") or "[]"))
        intents = discord.Intents.none()
        intents.guilds = intents.guild_messages = intents.dm_messages = intents.message_content = True
        self.client = _GatewayClient(self._on_event, intents=intents, enable_debug_events=True,
                                     guild_ready_timeout=self.guild_ready_timeout, max_messages=None,
                                     chunk_guilds_at_startup=False)
        discord_buttons.register(self.client, self.answer_button)
        if self.answer_command is not None:
            tree = discord_commands.command_tree(self.client, self.answer_command, self.guild_id)
            self.client.on_login = lambda: discord_commands.register(tree, self.guild_id)
        async with self.client:
            tasks = {asyncio.create_task(self._gateway()), asyncio.create_task(self._consume()),
                     asyncio.create_task(self._until(stop))}
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await self.client.close()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    raise self._as_connector_error(task.exception())
            if not stop.is_set():
                raise ConnectorError("Discord gateway connection ended")

    @staticmethod
    async def _until(stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(0.2)

    async def _gateway(self) -> None:
        await self.client.start(self.token, reconnect=True)

    @staticmethod
    def _as_connector_error(exc: BaseException) -> BaseException:
        if isinstance(exc, discord.LoginFailure):
            return ConnectorError(f"Discord rejected the bot token: {exc}", permanent=True)
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            return ConnectorError("enable the message content intent for the bot in Discord's developer portal",
                                  permanent=True)
        if isinstance(exc, (discord.ConnectionClosed, discord.GatewayNotFound, OSError)):
            return ConnectorError(f"Discord gateway: {exc}")
        return exc

    # --- events, in gateway order ------------------------------------------------

    def _on_event(self, event: str, args: tuple) -> None:
        if event == "socket_raw_receive":
            frame = json.loads(args[0]) if isinstance(args[0], (str, bytes)) else args[0]
            if frame.get("op") == 10:  # HELLO: a new or resumed session begins
                self.queue.put_nowait(_HOLD)
            elif frame.get("t") == "MESSAGE_CREATE" or frame.get("t") in CHANGE_EVENTS:
                self.queue.put_nowait((frame["t"], frame["d"]))
        elif event in ("ready", "resumed"):
            self.queue.put_nowait(_SYNC)
        elif event == "disconnect":  # a database write: off the gateway's event loop
            asyncio.get_running_loop().run_in_executor(
                None, self.sink.report, self.name, "degraded", "gateway disconnected; reconnecting")

    async def _consume(self) -> None:
        holding, held = True, []
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty() and len(batch) < self.batch_size:
                batch.append(self.queue.get_nowait())
            ready: list = []
            for item in batch:
                if item == _HOLD:
                    holding = True
                elif item == _SYNC:
                    await self._handle(ready)
                    ready = []
                    await self._backfill()
                    ready, held, holding = held, [], False
                    await asyncio.to_thread(self.sink.report, self.name, "ok", "connected")
                elif holding:
                    held.append(item)
                else:
                    ready.append(item)
            await self._handle(ready)

    async def _handle(self, events: list[tuple[str, dict]]) -> None:
        """Consecutive creates go to the sink as one batch; edits and deletions in turn."""
        run: list[dict] = []
        for event, data in events:
            if event == "MESSAGE_CREATE":
                run.append(data)
                continue
            await self._messages(run)
            run = []
            await self._changes(parse_change(event, data))
        await self._messages(run)

    # --- messages ---------------------------------------------------------------

    async def _messages(self, payloads: list[dict]) -> None:
        if not payloads:
            return
        inbounds, advanced = [], {}
        for payload in payloads:
            channel_id, message_id = str(payload.get("channel_id")), str(payload.get("id"))
            cursor = await self._cursor(channel_id)
            if cursor and int(message_id) <= int(cursor):
                continue  # seen already (backfilled, or replayed on RESUME)
            info = await self._channel(payload)
            if info.get("guild_id") and not payload.get("guild_id"):
                # The history API leaves guild_id out; without it a guild message reads as a DM.
                payload = dict(payload, guild_id=info["guild_id"])
            hint, why_not = route(payload, info, self.routes, self._bot_id())
            if self.guild_id and payload.get("guild_id") and str(payload["guild_id"]) != self.guild_id:
                hint, why_not = None, "another guild"
            if hint is not None:
                try:
                    inbounds.append(parse_message(payload, dict(info, hint=hint), bot_user_id=self._bot_id()))
                except ValueError as exc:
                    log.error("Discord message %s in %s cannot be read: %s", message_id, channel_id, exc)
            else:
                log.debug("Discord message %s skipped: %s", message_id, why_not)
            advanced[channel_id] = message_id
            if info.get("type") in DM_TYPES:
                self.dm_channels.add(channel_id)
        if inbounds:
            await asyncio.to_thread(self._submit, inbounds)
        await asyncio.to_thread(self._save_cursors, advanced)
        if self.changes_pending and self.apply_changes is not None:  # an edit that arrived before its message
            self.changes_pending = bool(await asyncio.to_thread(self.apply_changes, []))

    def _submit(self, inbounds: list[Inbound]) -> None:
        if self.submit_batch is not None:
            self.submit_batch(inbounds)
        else:
            for inbound in inbounds:
                self.sink.submit(inbound)
        log.info("Discord: %d message(s) submitted", len(inbounds))

    def _save_cursors(self, advanced: dict[str, str]) -> None:
        for channel_id, message_id in advanced.items():
            self.sink.save_cursor(f"discord:{channel_id}", message_id)
            self.cursors[channel_id] = message_id
        if any(c in self.dm_channels for c in advanced):
            self.sink.save_cursor("discord:dm_channels", json.dumps(sorted(self.dm_channels)))

    async def _cursor(self, channel_id: str) -> str | None:
        if channel_id not in self.cursors:
            self.cursors[channel_id] = await asyncio.to_thread(self.sink.load_cursor, f"discord:{channel_id}")
        return self.cursors[channel_id]

    async def _changes(self, changes: list[dict]) -> None:
        wanted = []
        for change in changes:
            info = await self._channel({"channel_id": change["channel_id"], "guild_id": change["raw"].get("guild_id")})
            if info.get("type") in DM_TYPES or route({"type": 0, "mentions": [{"id": self._bot_id()}]}, info,
                                                     self.routes, self._bot_id())[0]:
                wanted.append(change)
        if not wanted:
            return
        if self.apply_changes is None:
            log.warning("Discord: %d edit(s)/deletion(s) not recorded: no handler configured", len(wanted))
            return
        self.changes_pending = bool(await asyncio.to_thread(self.apply_changes, wanted))

    def _bot_id(self) -> str | None:
        user = self.client.user
        return str(user.id) if user else None

    async def _channel(self, payload: dict) -> dict:
        channel_id = int(payload["channel_id"])
        cached = self.client.get_channel(channel_id)
        if cached is not None:
            return channel_info(cached)
        if not payload.get("guild_id") or str(channel_id) in self.dm_channels:
            return {"id": str(channel_id), "type": 1}
        try:  # a thread the cache does not hold (archived when we connected)
            data = await self.client.http.get_channel(channel_id)
        except discord.HTTPException as exc:
            log.warning("Discord channel %s cannot be read (%s); its messages are not ingested", channel_id, exc)
            return {"id": str(channel_id), "type": None}
        info = {"id": str(data["id"]), "type": data.get("type"), "name": data.get("name"),
                "guild_id": data.get("guild_id"), "owner_id": data.get("owner_id")}
        parent = self.client.get_channel(int(data["parent_id"])) if data.get("parent_id") else None
        if parent is not None and data.get("type") in THREAD_TYPES:
            parent_info = channel_info(parent)
            info.update(parent_id=parent_info["id"], parent_name=parent_info["name"],
                        category_id=parent_info.get("category_id"), category=parent_info.get("category"))
        elif parent is not None:
            info.update(category_id=str(parent.id), category=parent.name)
        return info

    # --- backfill ---------------------------------------------------------------

    async def _backfill(self) -> None:
        """Read what was posted since each channel's cursor, oldest first, and hand it
        on as if it had arrived live. A channel never seen starts at the connector's
        first connection (minus the backfill window)."""
        start = await asyncio.to_thread(self._start_cursor)
        found: list[dict] = []
        for channel_id in self._backfill_channels():
            after = await self._cursor(channel_id) or start
            found += await self._history(channel_id, after)
        found.sort(key=lambda payload: int(payload["id"]))
        if found:
            log.info("Discord: backfilling %d message(s) missed while disconnected", len(found))
        for at in range(0, len(found), self.batch_size):
            await self._messages(found[at:at + self.batch_size])

    def _start_cursor(self) -> str:
        start = self.sink.load_cursor("discord:start")
        if start is None:
            start = str(snowflake_at(time.time() * 1000 - self.backfill_hours * 3_600_000))
            self.sink.save_cursor("discord:start", start)
        return start

    def _backfill_channels(self) -> list[str]:
        channels: list[str] = []
        for guild in self.client.guilds:
            if self.guild_id and str(guild.id) != self.guild_id:
                continue
            for channel in [*guild.text_channels, *guild.threads]:
                if route({"type": 0, "mentions": [{"id": self._bot_id()}]}, channel_info(channel), self.routes,
                         self._bot_id())[0]:
                    channels.append(str(channel.id))
        return channels + sorted(self.dm_channels)

    async def _history(self, channel_id: str, after: str) -> list[dict]:
        found: list[dict] = []
        while True:
            try:
                page = await self.client.http.logs_from(int(channel_id), HISTORY_PAGE, after=int(after))
            except (discord.Forbidden, discord.NotFound) as exc:
                log.warning("Discord channel %s: history not readable (%s)", channel_id, exc)
                return found
            page = sorted(page, key=lambda payload: int(payload["id"]))
            found += page
            if len(page) < HISTORY_PAGE:
                return found
            after = page[-1]["id"]


class DiscordSender:
    """Sends outbox rows to Discord.

    The Outbound contract (what the hub's workflows put in a row):
      - ack / reply in a conversation: `conversation_key` is the thread, forum post or
        DM channel id. For a message in a plain support channel, `meta` carries
        `{"channel_id": <parent channel>, "thread_from": <message id>, "thread_name": ...}`:
        the thread on that message is opened first (once; it has the message's id).
      - `meta["attachments"]`: [{"filename", "url", ...}] are listed as links under the text.
      - `meta["mention_user"]`: the one user id whose mention may ping (the ack's
        `<@author>`); every other mention, @everyone and @here included, is inert.
      - page or reply to a person: `Outbound(channel="discord", kind="page", to="<user id>",
        idempotency_key=..., text=...)` opens (or reuses) the DM channel with that user.
      - status: `Outbound(channel="discord", kind="status", ...)` posts to the
        announcements channel given to the constructor (an id, or a channel name looked
        up in the guild), or to `meta["channel_id"]`.
    Missing access (403) and unknown channels or users (404), a rejected token and a
    malformed request are permanent `ConnectorError`s; the rest may be retried.
    """

    channel = "discord"

    def __init__(self, token: str, *, api_base: str = "https://discord.com/api/v10",
                 gateway_url: str = "wss://gateway.discord.gg", guild_id: str | None = None,
                 announcements_channel: str | None = None, threads: bool = True):
        self.token = token
        self.api_base, self.gateway_url = api_base, gateway_url
        self.guild_id = guild_id
        self.announcements_channel = announcements_channel
        self.threads = threads
        configure_endpoints(api_base, gateway_url)

    def send(self, outbound: Outbound) -> SendResult:
        configure_endpoints(self.api_base, self.gateway_url)
        return asyncio.run(self._send(outbound))

    async def _send(self, outbound: Outbound) -> SendResult:
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(self.token)
            target = await self._target(http, outbound)
            params = handle_message_parameters(
                content=_content(outbound),
                nonce=nonce_for(outbound.idempotency_key),  # discord.py adds enforce_nonce
            )
            params.payload["allowed_mentions"] = self._allowed_mentions(outbound)
            if (outbound.meta or {}).get("components"):  # buttons (a survey): Discord's component JSON
                params.payload["components"] = outbound.meta["components"]
            message = await http.send_message(target, params=params)
            return SendResult(external_id=str(message["id"]))
        except discord.LoginFailure as exc:
            raise ConnectorError(f"Discord rejected the bot token: {exc}", permanent=True) from exc
        except discord.HTTPException as exc:
            raise _send_error(exc) from exc
        except (aiohttp_errors()) as exc:
            raise ConnectorError(f"Discord unreachable: {exc}") from exc
        finally:
            await http.close()

    @staticmethod
    def _allowed_mentions(outbound: Outbound) -> dict:
        # Snowflakes as strings, as Discord's spec has them (discord.py would send ints).
        user = (outbound.meta or {}).get("mention_user")
        return {"parse": [], "users": [str(user)]} if user else {"parse": []}

    async def _target(self, http: discord.http.HTTPClient, outbound: Outbound) -> int:
        meta = outbound.meta or {}
        if outbound.to and outbound.kind in ("page", "reply", "survey"):
            dm = await http.request(Route("POST", "/users/@me/channels"), json={"recipient_id": str(outbound.to)})
            return int(dm["id"])
        if outbound.kind == "status":
            return await self._announcements(http, meta.get("channel_id"))
        if meta.get("thread_from") and meta.get("channel_id"):
            if not self.threads:
                return int(meta["channel_id"])
            return await self._thread(http, int(meta["channel_id"]), int(meta["thread_from"]),
                                      str(meta.get("thread_name") or "Support request"))
        if outbound.conversation_key and outbound.conversation_key.isdigit():
            return int(outbound.conversation_key)
        raise ConnectorError(f"no Discord channel to send {outbound.kind} {outbound.idempotency_key} to",
                             permanent=True)

    @staticmethod
    async def _thread(http: discord.http.HTTPClient, channel_id: int, message_id: int, name: str) -> int:
        try:
            thread = await http.start_thread_with_message(channel_id, message_id, name=name[:100] or "Support request",
                                                          auto_archive_duration=10080)
            return int(thread["id"])
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:  # opened by an earlier attempt: it has the message's id
                return message_id
            raise

    async def _announcements(self, http: discord.http.HTTPClient, channel: str | None) -> int:
        wanted = str(channel or self.announcements_channel or "announcements")
        if wanted.isdigit():
            return int(wanted)
        if not self.guild_id:
            raise ConnectorError("set the guild id to find the announcements channel by name", permanent=True)
        channels = await http.get_all_guild_channels(int(self.guild_id))
        key = wanted.lstrip("#").lower()
        categories = {c["id"] for c in channels if c.get("type") == 4 and c.get("name", "").lower() == key}
        for candidate in channels:
            if candidate.get("type") in (0, 5) and (
                candidate.get("name", "").lower() == key or candidate.get("parent_id") in categories
            ):
                return int(candidate["id"])
        raise ConnectorError(f"no announcements channel {wanted!r} in guild {self.guild_id}", permanent=True)

    def post_status(self, text: str, key: str, channel: str | None = None) -> SendResult:
        """Post a status update to the announcements channel (incidents call this)."""
        return self.send(Outbound(channel="discord", kind="status", idempotency_key=key, text=text,
                                  meta={"channel_id": channel} if channel else {}))

    def send_dm(self, user_id: str, text: str, key: str, kind: str = "page") -> SendResult:
        """DM a user (on-call pages call this); `key` dedupes a resend."""
        return self.send(Outbound(channel="discord", kind=kind, idempotency_key=key, text=text, to=str(user_id)))


def _content(outbound: Outbound) -> str:
    """The text, mentions made inert, with attachments' metadata as links (the hub keeps
    files where they are; a bot cannot re-upload a customer's CDN file by reference)."""
    links = [f"\U0001f4ce {a.get('filename') or 'attachment'}: {a['url']}"
             for a in (outbound.meta or {}).get("attachments") or [] if isinstance(a, dict) and a.get("url")]
    text = "\n".join([sanitize_mentions(outbound.text), *links]) if links else sanitize_mentions(outbound.text)
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "\u2026"


def aiohttp_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def _send_error(exc: discord.HTTPException) -> ConnectorError:
    reason = f"Discord {exc.status} (code {exc.code}): {exc.text or exc}"
    if isinstance(exc, discord.Forbidden):
        return ConnectorError(f"missing access: {reason}", permanent=True)
    if isinstance(exc, discord.NotFound):
        return ConnectorError(f"unknown channel or user: {reason}", permanent=True)
    # Other 4xx are requests Discord will never accept; 5xx and 429 beyond discord.py's retries may pass later.
    return ConnectorError(reason, permanent=400 <= exc.status < 500 and exc.status != 429)
