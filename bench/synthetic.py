"""Realistic generated inbound messages for the benchmarks.

The mix follows what the connectors produce (see connectors/discord_bot.py,
connectors/x/parse.py, connectors/mail/parse.py):
- channels: email 40 %, Discord 40 %, X 20 %;
- about 30 % follow-ups that thread into an earlier ticket: email by References /
  In-Reply-To, Discord by thread (conversation key) or message reply (reference),
  X by conversation_id (and the replied-to tweet);
- text of 50-2,000 characters (log-uniform: many short messages, a long tail),
  with the words the triage rules react to, a few critical ones included;
- authors: a growing pool per channel, about 40 % of messages by someone who wrote before;
- `raw` shaped like each platform's payload, as the connectors store it.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.base import Inbound

CHANNEL_WEIGHTS = {"email": 0.4, "discord": 0.4, "x": 0.2}
FOLLOW_UP_SHARE = 0.30
REPEAT_AUTHOR_SHARE = 0.40
MIN_TEXT, MAX_TEXT = 50, 2_000

_SENTENCES = [
    "The dashboard shows an error 500 when I open the reports page.",
    "Since the last update the export keeps failing with a timeout.",
    "How do I connect my account to the API with a personal token?",
    "Would be great to have dark mode in the mobile app.",
    "Please add support for exporting invoices as CSV.",
    "The documentation for webhooks has a typo in the signature example.",
    "Is it possible to change the billing email without contacting sales?",
    "Thanks for the quick fix yesterday, everything works now!",
    "Login is not working on Safari, the button does nothing.",
    "Our integration with Slack stopped posting notifications this morning.",
    "Where can I find the guide for configuring single sign-on?",
    "The page takes more than ten seconds to load for our team.",
    "I think the settings screen is confusing, the save button is hidden.",
    "We get a 502 from the public API about one request in twenty.",
    "Could you add a filter by assignee on the ticket list?",
    "The mobile app crashes when I rotate the phone on the upload screen.",
    "Just wanted to say the new release looks awesome.",
    "Our nightly sync reports duplicate rows after the migration.",
    "The tutorial skips the step where the API key is created.",
    "Can someone help me understand the rate limits on the search endpoint?",
]
_CRITICAL = [
    "Production is down for all our users, this is a full outage.",
    "We think this is a security issue: other customers' data is visible.",
    "After the update we had data loss, last week's records are gone.",
]
_CRITICAL_SHARE = 0.03
_FILLER = (
    "Steps to reproduce are below. I attached the logs from our side. This started around the time "
    "of the last deployment and happens on every account we tested. Let me know if you need more details. "
)


@dataclass
class _Thread:
    """What a follow-up needs to know about the conversation it continues."""

    channel: str
    root_id: str
    last_id: str
    conversation_key: str | None
    subject: str | None
    in_thread: bool  # Discord: a thread channel (conversation key) vs a plain-channel reply


@dataclass
class _Author:
    id: str
    handle: str
    name: str
    email: str | None


class MessageFactory:
    """Deterministic (seeded) stream of inbound messages; ids are unique per run."""

    def __init__(self, seed: int = 7, run_id: str | None = None):
        self.rng = random.Random(seed)
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.counter = 0
        self.threads: list[_Thread] = []  # conversations already handed out (stored or pending)
        self.authors: dict[str, list[_Author]] = {c: [] for c in CHANNEL_WEIGHTS}
        self.sent_at = datetime(2024, 1, 1, tzinfo=UTC)
        self._channels = list(CHANNEL_WEIGHTS)
        self._weights = list(CHANNEL_WEIGHTS.values())

    # public --------------------------------------------------------------

    def batch(self, size: int) -> list[Inbound]:
        """`size` messages; follow-ups only thread into conversations of earlier batches,
        so that they exercise the database lookups rather than the in-batch shortcut."""
        known = len(self.threads)
        return [self.one(known) for _ in range(size)]

    def one(self, known_threads: int | None = None) -> Inbound:
        self.counter += 1
        self.sent_at += timedelta(seconds=self.rng.randint(1, 30))
        known = len(self.threads) if known_threads is None else known_threads
        if known and self.rng.random() < FOLLOW_UP_SHARE:
            return self._follow_up(self.threads[self._pick_thread(known)])
        channel = self.rng.choices(self._channels, self._weights)[0]
        return self._new_conversation(channel)

    # conversations ---------------------------------------------------------

    def _pick_thread(self, known: int) -> int:
        # Most replies come soon after the first message, some much later.
        if self.rng.random() < 0.7:
            return known - 1 - min(known - 1, int(self.rng.expovariate(1 / 2_000)))
        return self.rng.randrange(known)

    def _new_conversation(self, channel: str) -> Inbound:
        author = self._author(channel)
        message_id = self._id(channel)
        text = self._text()
        if channel == "email":
            subject = self._subject(text)
            thread = _Thread(channel, message_id, message_id, None, subject, False)
            inbound = self._email(message_id, author, text, subject, references=[])
        elif channel == "discord":
            in_thread = self.rng.random() < 0.5
            key = self._id("discord") if in_thread else f"msg:{message_id}"
            subject = self._subject(text) if in_thread else None
            thread = _Thread(channel, message_id, message_id, key, subject, in_thread)
            inbound = self._discord(message_id, author, text, key, references=[], subject=subject)
        else:
            thread = _Thread(channel, message_id, message_id, message_id, None, False)
            inbound = self._x(message_id, author, text, conversation_id=message_id, references=[])
        self.threads.append(thread)
        return inbound

    def _follow_up(self, thread: _Thread) -> Inbound:
        channel = thread.channel
        author = self._author(channel)
        message_id = self._id(channel)
        text = self._text()
        if channel == "email":
            refs = [thread.root_id] if thread.last_id == thread.root_id else [thread.root_id, thread.last_id]
            inbound = self._email(message_id, author, text, f"Re: {thread.subject}", references=refs)
        elif channel == "discord" and thread.in_thread:
            inbound = self._discord(message_id, author, text, thread.conversation_key, references=[],
                                    subject=thread.subject)
        elif channel == "discord":  # a reply in a plain channel: its own key, a reference
            inbound = self._discord(message_id, author, text, f"msg:{message_id}", references=[thread.last_id])
        else:
            inbound = self._x(message_id, author, text, conversation_id=thread.conversation_key,
                              references=[thread.last_id])
        thread.last_id = message_id
        return inbound

    # platforms -------------------------------------------------------------

    def _email(self, message_id: str, author: _Author, text: str, subject: str, references: list[str]) -> Inbound:
        headers = (
            f"From: {author.name} <{author.email}>\r\nTo: support@trkv-web.app\r\nSubject: {subject}\r\n"
            f"Message-ID: {message_id}\r\nDate: {self.sent_at:%a, %d %b %Y %H:%M:%S +0000}\r\n"
        )
        if references:
            headers += f"In-Reply-To: {references[-1]}\r\nReferences: {' '.join(references)}\r\n"
        return Inbound(
            channel="email", external_id=message_id, text=text, author_id=author.email,
            author_handle=author.email, author_name=author.name, author_email=author.email,
            references=references, subject=subject, sent_at=self.sent_at,
            hints={"email_subject": subject}, raw={"value": headers + "\r\n" + text},
        )

    def _discord(self, message_id: str, author: _Author, text: str, key: str, references: list[str],
                 subject: str | None = None) -> Inbound:
        channel_id = key if not key.startswith("msg:") else "1180000000000000001"
        payload = {
            "id": message_id, "channel_id": channel_id, "guild_id": "1170000000000000000",
            "author": {"id": author.id, "username": author.handle, "global_name": author.name},
            "content": text, "timestamp": self.sent_at.isoformat(), "attachments": [], "embeds": [],
            "mentions": [],
        }
        if references:
            payload["message_reference"] = {"message_id": references[0], "channel_id": channel_id}
        return Inbound(
            channel="discord", external_id=message_id, text=text, author_id=author.id,
            author_handle=author.handle, author_name=author.name, conversation_key=key,
            references=references, subject=subject, sent_at=self.sent_at,
            permalink=f"https://discord.com/channels/1170000000000000000/{channel_id}/{message_id}",
            raw=payload,
        )

    def _x(self, tweet_id: str, author: _Author, text: str, conversation_id: str, references: list[str]) -> Inbound:
        text = text[:280] if self.rng.random() < 0.8 else text  # long posts exist (note_tweet)
        tweet = {
            "id": tweet_id, "text": text, "author_id": author.id, "conversation_id": conversation_id,
            "created_at": self.sent_at.isoformat().replace("+00:00", "Z"),
        }
        if references:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": references[0]}]
        includes = {"users": [{"id": author.id, "username": author.handle.lstrip("@"), "name": author.name}]}
        return Inbound(
            channel="x", external_id=tweet_id, text=text, author_id=author.id, author_handle=author.handle,
            author_name=author.name, conversation_key=conversation_id, references=references,
            sent_at=self.sent_at, permalink=f"https://x.com/i/web/status/{tweet_id}",
            raw={"data": tweet, "includes": includes},
        )

    # parts -----------------------------------------------------------------

    def _id(self, channel: str) -> str:
        if channel == "email":
            return f"<{self.run_id}.{self.counter}.{self.rng.getrandbits(32):x}@mail.example.com>"
        # snowflake-like: unique through the counter, prefixed by the run
        return f"{int(self.run_id, 16) % 10**9:09d}{self.counter:010d}{self.rng.randrange(100):02d}"

    def _author(self, channel: str) -> _Author:
        pool = self.authors[channel]
        if pool and self.rng.random() < REPEAT_AUTHOR_SHARE:
            return self._repeat_author(pool)
        n = sum(len(p) for p in self.authors.values()) + 1
        name = f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"
        handle = f"{name.split()[0].lower()}{n}"
        if channel == "email":
            address = f"{handle}@{self.rng.choice(_DOMAINS)}"
            author = _Author(address, address, name, address)
        elif channel == "discord":
            author = _Author(f"9{self.run_id_num}{n:09d}", handle, name, None)
        else:
            author = _Author(f"8{self.run_id_num}{n:09d}", f"@{handle}", name, None)
        pool.append(author)
        return author

    def _repeat_author(self, pool: list[_Author]) -> _Author:
        if self.rng.random() < 0.3:  # a few people write a lot
            return pool[min(len(pool) - 1, int(self.rng.paretovariate(1.2)) - 1)]
        return pool[self.rng.randrange(len(pool))]

    @property
    def run_id_num(self) -> str:
        return f"{int(self.run_id, 16) % 10**6:06d}"

    def _text(self) -> str:
        length = int(math.exp(self.rng.uniform(math.log(MIN_TEXT), math.log(MAX_TEXT))))
        parts = []
        if self.rng.random() < _CRITICAL_SHARE:
            parts.append(self.rng.choice(_CRITICAL))
        size = sum(len(p) + 1 for p in parts)
        while size < length:
            part = self.rng.choice(_SENTENCES) if self.rng.random() < 0.6 else _FILLER
            parts.append(part)
            size += len(part) + 1
        return " ".join(parts)[:length].rstrip() or "Hello?"

    def _subject(self, text: str) -> str:
        return text.split(".", 1)[0][:80]


_FIRST = ["Ada", "Bo", "Chen", "Dana", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lea", "Mia", "Noor"]
_LAST = ["Smith", "Garcia", "Kim", "Nguyen", "Müller", "Rossi", "Okafor", "Silva", "Kowalski", "Haddad"]
_DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "gmail.example"]
