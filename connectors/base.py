"""The one seam between the platforms and the hub.

A connector parses native payloads into `Inbound` (a pure function, tested on real
recorded payloads), hands them to a `Sink` the workflow layer provides, and advances
its cursor only after the sink says the message is durably stored. Sending goes the
other way: the dispatcher gives a connector an `Outbound` and the connector raises
`ConnectorError(permanent=...)` when it cannot deliver.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

CHANNELS = ("email", "discord", "x", "api", "log")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str = "application/octet-stream"
    size: int | None = None
    url: str | None = None


@dataclass
class Inbound:
    """One message as it arrived, normalized across platforms."""

    channel: str  # "email" | "discord" | "x" | "api"
    external_id: str  # unique per channel: Message-ID, snowflake, tweet id, caller's id
    text: str
    author_id: str  # the platform's stable user id (email address, snowflake, X user id)
    author_handle: str = ""  # @name, username, or the address
    author_name: str = ""
    author_email: str | None = None
    conversation_key: str | None = None  # thread/DM channel id, X conversation_id
    references: list[str] = field(default_factory=list)  # external ids this replies to
    subject: str | None = None
    html: str | None = None
    sent_at: datetime | None = None  # what the sender claims; SLA clocks use receipt time
    permalink: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    hints: dict[str, str] = field(default_factory=dict)  # e.g. {"category": "bug_report"}
    # Why this message must not get an automatic acknowledgement (bounce, auto-reply,
    # bulk mail, ...). None means an acknowledgement is allowed.
    no_ack_reason: str | None = None
    problems: list[str] = field(default_factory=list)  # what was wrong with the input
    raw: Any = None  # the native payload, JSON-serializable

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inbound:
        data = dict(data)
        sent_at = data.get("sent_at")
        if isinstance(sent_at, str):
            data["sent_at"] = datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
        data["attachments"] = [
            a if isinstance(a, Attachment) else Attachment(**a) for a in data.get("attachments") or []
        ]
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Outbound:
    """Something the hub sends: an acknowledgement, an agent reply, a page."""

    channel: str
    kind: str  # "ack" | "reply" | "page" | "status"
    idempotency_key: str  # stable per outbox row; receivers deduplicate on it
    text: str
    to: str | None = None  # address, DM channel, user id; connector specific
    subject: str | None = None
    html: str | None = None
    conversation_key: str | None = None
    in_reply_to: str | None = None  # external id of the message this answers
    references: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SendResult:
    external_id: str | None = None  # the id the platform gave the sent message
    sent_as: str | None = None  # how, when the connector chose (X: "dm", or "reply" when DMs are closed)
    text: str | None = None  # what was sent, when not the outbound's text (a fallback's own words)


class ConnectorError(Exception):
    """A connector could not do its job. `permanent` says retrying cannot help
    (bad credentials, unknown channel); otherwise the caller retries with backoff.
    `retry_after` (seconds) says the platform asked us to wait (a rate limit): the
    send was not attempted, so it must not count against the retry limit."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def clean_text(text: str, problems: list[str] | None = None, name: str = "text") -> str:
    """Lone surrogates (JSON "\\ud83d", undecodable bytes) cannot be stored or sent as
    UTF-8: replace them, and say so in `problems` when given."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if problems is not None:
            problems.append(f"{name}: broken unicode replaced")
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def text_field(value: Any, problems: list[str], name: str) -> str:
    """A payload field that should be text: "" when missing, noted when not a string."""
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{name} is {type(value).__name__}, not text")
        return ""
    return clean_text(value, problems, name)


@runtime_checkable
class Sink(Protocol):
    """What the workflow layer gives a receiving connector."""

    def submit(self, inbound: Inbound) -> None:
        """Durably accept one message; returns only after it is committed."""

    def load_cursor(self, name: str) -> str | None: ...

    def save_cursor(self, name: str, value: str) -> None: ...

    def report(self, name: str, state: str, detail: str = "") -> None:
        """Health for /healthz: state is "ok", "degraded" or "down"."""


@runtime_checkable
class Receiver(Protocol):
    name: str

    def run(self, sink: Sink, stop: Any) -> None:
        """Receive until `stop` (a threading.Event) is set."""


@runtime_checkable
class Sender(Protocol):
    channel: str

    def send(self, outbound: Outbound) -> SendResult: ...
