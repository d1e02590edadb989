"""Receiving email over IMAP: one receiver per folder, IDLE where offered, polling otherwise.

The cursor is `UIDVALIDITY:last UID`, saved only after the sink has durably taken
the messages up to that UID, so a crash means a redelivery (deduplicated by the
Message-ID downstream), never a gap. When the server changes a folder's
UIDVALIDITY, its UIDs mean nothing any more: the folder is read again from the
start and the sink's Message-ID deduplication drops what it already has.

Errors: a failed login (or a folder that does not exist) is permanent, retrying
cannot help; a dropped connection, a timeout or a TLS hiccup is transient and the
runner retries with backoff.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl as ssl_module
import time
from collections.abc import Iterable
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from connectors.base import ConnectorError, Inbound, Sink
from connectors.mail.parse import parse_email

log = logging.getLogger(__name__)

FETCH_CHUNK = 50  # messages per FETCH; also how often the cursor is saved
IDLE_RENEW = 5 * 60.0  # RFC 2177 allows 29 minutes, but NAT boxes forget a quiet flow after 350 s; a
# connection that died silently is noticed at the next renewal (its DONE goes unanswered)
IDLE_CHECK = 1.0  # how often an IDLE wait looks at the stop event
MAX_MESSAGE_BYTES = 50_000_000  # a larger message is stored by its headers alone

_TRANSIENT = (OSError, socket.timeout, ssl_module.SSLError, IMAPClientError, EOFError)


class ImapReceiver:
    """Reads one IMAP folder into the sink, resuming from its cursor."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        *,
        folder: str = "INBOX",
        ssl: bool = True,
        starttls: bool = False,
        ssl_context: ssl_module.SSLContext | None = None,
        own_addresses: Iterable[str] = (),
        attachment_max_bytes: int = 0,
        idle_renew: float = IDLE_RENEW,
        poll_interval: float = 60.0,
        timeout: float = 60.0,
        use_idle: bool = True,
    ):
        self.host, self.port, self.user = host, port, user
        self._password = password
        self.folder = folder
        self.ssl, self.starttls = ssl, starttls
        self.ssl_context = ssl_context
        self.own_addresses = tuple(own_addresses)
        self.attachment_max_bytes = attachment_max_bytes
        self.idle_renew = min(idle_renew, 29 * 60.0)
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.use_idle = use_idle
        self.name = f"email:{folder}"

    def __repr__(self) -> str:  # never the password
        return f"ImapReceiver({self.user}@{self.host}:{self.port}/{self.folder})"

    # --- the loop ----------------------------------------------------------------

    def run(self, sink: Sink, stop: Any) -> None:
        client = self._connect()
        try:
            validity = self._select(client)
            sink.report(self.name, "ok", f"{self.user}@{self.host}/{self.folder}")
            idle = self.use_idle and b"IDLE" in client.capabilities()
            log.info("%s: reading %s on %s (%s)", self.name, self.folder, self.host, "IDLE" if idle else "polling")
            while not stop.is_set():
                self.fetch_new(client, sink, validity)
                if idle:
                    self._idle(client, stop)
                else:
                    stop.wait(self.poll_interval)
                    if not stop.is_set():
                        client.noop()
                        log.debug("%s: polled", self.name)
                validity = self._current_validity(client, validity)
        except ConnectorError:
            raise
        except LoginError as exc:  # can come late, on re-authentication
            raise ConnectorError(f"IMAP login failed for {self.user}: {exc}", permanent=True) from exc
        except _TRANSIENT as exc:
            raise ConnectorError(f"IMAP connection to {self.host}:{self.port} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self._logout(client)

    def _connect(self) -> IMAPClient:
        try:
            client = IMAPClient(self.host, port=self.port, ssl=self.ssl, ssl_context=self.ssl_context, timeout=self.timeout)
        except ssl_module.SSLCertVerificationError as exc:  # retrying will not make the certificate valid
            raise ConnectorError(f"IMAP server {self.host}: TLS certificate rejected: {exc}", permanent=True) from exc
        except _TRANSIENT as exc:
            raise ConnectorError(f"cannot connect to IMAP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        try:
            if self.starttls and not self.ssl:
                client.starttls(self.ssl_context or ssl_module.create_default_context())
            client.login(self.user, self._password)
        except LoginError as exc:
            self._logout(client)
            detail = _text(exc)
            # RFC 5530: [UNAVAILABLE] is the server's own trouble, not our credentials.
            temporary = "[UNAVAILABLE]" in detail.upper() or "TEMPORARY" in detail.upper()
            raise ConnectorError(f"IMAP login failed for {self.user} on {self.host}: {detail}",
                                 permanent=not temporary) from exc
        except ssl_module.SSLCertVerificationError as exc:
            self._logout(client)
            raise ConnectorError(f"IMAP server {self.host}: TLS certificate rejected: {exc}", permanent=True) from exc
        except _TRANSIENT as exc:
            self._logout(client)
            raise ConnectorError(f"IMAP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
        return client

    def _select(self, client: IMAPClient) -> int:
        try:
            info = client.select_folder(self.folder, readonly=True)
        except IMAPClientError as exc:
            raise ConnectorError(f"IMAP folder {self.folder!r} cannot be opened: {_text(exc)}", permanent=True) from exc
        return int(info[b"UIDVALIDITY"])

    def _current_validity(self, client: IMAPClient, known: int) -> int:
        """UIDVALIDITY as the server says now (a folder re-created while we were idle)."""
        status = client.folder_status(self.folder, [b"UIDVALIDITY"])
        validity = int(status[b"UIDVALIDITY"])
        if validity != known:
            client.select_folder(self.folder, readonly=True)
        return validity

    def _idle(self, client: IMAPClient, stop: Any) -> None:
        """Wait in IDLE until the folder changes, `stop` is set or the renew time is up."""
        # A NOOP first: mail that arrived since our SEARCH is announced now, not lost in the
        # gap before IDLE starts.
        if any(_is_change(r) for r in client.noop()[1]):
            return
        client.idle()
        # An EXISTS sent before the server's "+ idling" is parked by imaplib with the
        # untagged responses, where idle_check() never looks.
        parked = getattr(getattr(client, "_imap", None), "untagged_responses", {})
        early = any(parked.pop(key, None) for key in ("EXISTS", "RECENT", "EXPUNGE"))
        started = time.monotonic()
        try:
            while not early and not stop.is_set() and time.monotonic() - started < self.idle_renew:
                responses = client.idle_check(timeout=IDLE_CHECK)
                if any(_is_change(r) for r in responses):
                    break
                if not responses and _closed(client):
                    raise EOFError("the server closed the connection during IDLE")
            else:
                if not early and not stop.is_set():
                    log.debug("%s: IDLE renewed after %.1f s without news", self.name, time.monotonic() - started)
        finally:
            client.idle_done()

    # --- fetching ------------------------------------------------------------------

    def fetch_new(self, client: IMAPClient, sink: Sink, validity: int) -> int:
        """Hand every message after the cursor to the sink; returns how many."""
        last_uid = self._resume_point(sink, validity)
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            sizes = client.fetch(chunk, ["RFC822.SIZE"])
            small = [u for u in chunk if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= MAX_MESSAGE_BYTES]
            bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            big = [u for u in chunk if u not in small]
            headers = client.fetch(big, ["BODY.PEEK[HEADER]"]) if big else {}
            for uid in chunk:
                if uid in bodies:
                    raw = bodies[uid].get(b"BODY[]") or b""
                    inbound = self.to_inbound(raw, validity, uid)
                else:
                    raw = headers.get(uid, {}).get(b"BODY[HEADER]") or b""
                    size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                    inbound = self.to_inbound(raw, validity, uid)
                    inbound.problems.append(f"message of {size} bytes: only its headers were fetched")
                sink.submit(inbound)
            # Only now, with every message up to chunk[-1] committed, may the cursor move.
            sink.save_cursor(self.name, f"{validity}:{chunk[-1]}")
        if uids:
            log.info("%s: %d new message(s), up to UID %d", self.name, len(uids), uids[-1])
        return len(uids)

    def _resume_point(self, sink: Sink, validity: int) -> int:
        cursor = sink.load_cursor(self.name)
        if not cursor:
            return 0
        try:
            saved_validity, last_uid = (int(x) for x in cursor.split(":", 1))
        except ValueError:
            log.warning("%s: unreadable cursor %r; reading the folder from the start", self.name, cursor)
            return 0
        if saved_validity != validity:
            log.warning(
                "%s: UIDVALIDITY changed (%d -> %d): reading the folder again; messages already stored "
                "are recognised by their Message-ID", self.name, saved_validity, validity,
            )
            return 0
        return last_uid

    def to_inbound(self, raw: bytes, validity: int, uid: int) -> Inbound:
        """Parse; bytes that are not an email are kept as a message saying so, not dropped."""
        try:
            return parse_email(raw, own_addresses=self.own_addresses, attachment_max_bytes=self.attachment_max_bytes)
        except ValueError as exc:
            text = raw.decode("utf-8", errors="replace")
            return Inbound(
                channel="email", external_id=f"imap:{self.host}/{self.folder}/{validity}/{uid}",
                text=f"(unreadable message in {self.folder}, UID {uid}: {exc})", author_id="unknown",
                no_ack_reason=f"unreadable: {exc}", problems=[str(exc)], raw=text,
            )

    @staticmethod
    def _logout(client: IMAPClient) -> None:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing to clean up then
            try:
                client.shutdown()
            except Exception:
                pass


def _closed(client: IMAPClient) -> bool:
    """Whether the server has closed the connection. idle_check() swallows an EOF and returns
    no responses, so an idling receiver would otherwise notice only at its next renewal."""
    try:
        fd = client.socket().fileno()
        if fd < 0:
            return True
        # Peek at the TCP stream itself (under TLS too): b"" is the end of it.
        with socket.socket(fileno=os.dup(fd)) as raw:
            return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing to read
    except OSError:
        return True


def _is_change(response: tuple) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH")


def _text(exc: Exception) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
