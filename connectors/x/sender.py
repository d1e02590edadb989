"""X (Twitter) sending: `XSender` posts replies, status updates and direct messages, and
looks for an earlier copy before sending again (X has no idempotency key)."""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable

import tweepy

from connectors.base import ConnectorError, Outbound, SendResult
from connectors.x.budget import RateBudget, Stopped
from connectors.x.http import DM_EVENT_FIELDS, Api, XRequestError
from connectors.x.parse import replied_to

log = logging.getLogger(__name__)


class XSender:
    """Posts acknowledgements and replies as reply tweets, status updates as tweets, and
    private follow-ups as direct messages (`meta["dm"]`); a DM that has a public reply to
    fall back on (`meta["public_reply"]`: a survey) is tried as a DM first, and the
    result says which went out (`sent_as`).

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
        api = Api(self.budget, sleep=self._sleep, attempts=3)
        try:
            if outbound.meta.get("dm") and outbound.meta.get("public_reply"):
                result = self._dm_else_reply(api, outbound)
            else:
                result = self._dm(api, outbound) if outbound.meta.get("dm") else self._tweet(api, outbound)
        except XRequestError as exc:
            if exc.status in (401, 403):  # the account's problem, not just this message's
                self.report("down" if exc.status == 401 else "degraded", str(exc))
            raise
        except Stopped as exc:
            raise ConnectorError(f"{exc}: over the posting budget; will retry", retry_after=exc.seconds) from exc
        self.report("ok", "sending")
        return result

    def _dm_else_reply(self, api: Api, outbound: Outbound) -> SendResult:
        """A DM when the customer's DMs are open; when X refuses it (403: DMs closed, not
        permitted), the public reply in `meta["public_reply"]` ({text, in_reply_to}),
        once. A resend after a crash first looks for either among what we sent."""
        public = outbound.meta["public_reply"]
        reply = Outbound(channel="x", kind=outbound.kind, idempotency_key=outbound.idempotency_key,
                         text=public["text"], in_reply_to=public.get("in_reply_to"),
                         conversation_key=outbound.conversation_key)
        if self.is_retry(outbound.idempotency_key):
            existing = self._find_sent_dm(api, outbound.to, outbound.text) if outbound.to else None
            if existing:
                log.info("x: %s was already sent as DM %s; not sending again", outbound.idempotency_key, existing)
                return SendResult(existing, sent_as="dm")
            existing = self._find_sent(api, reply.text, reply.in_reply_to) if reply.in_reply_to else None
            if existing:
                log.info("x: %s was already posted as %s; not posting again", outbound.idempotency_key, existing)
                return SendResult(existing, sent_as="reply", text=reply.text)
        if outbound.to:
            try:
                body = api.call("dm", self.client.create_direct_message, participant_id=outbound.to,
                                text=outbound.text, user_auth=True, resend_safe=False)
                return SendResult(str((body.get("data") or {}).get("dm_event_id") or "") or None, sent_as="dm")
            except XRequestError as exc:
                if exc.status != 403:
                    raise
                log.info("x: %s: X refused the DM (%s); replying publicly instead", outbound.idempotency_key,
                         exc.detail)
        result = self._tweet(api, reply, look_first=False)
        return SendResult(result.external_id, sent_as="reply", text=reply.text)

    def _tweet(self, api: Api, outbound: Outbound, *, look_first: bool = True) -> SendResult:
        reply_to = outbound.in_reply_to if outbound.kind != "status" else None
        if reply_to is None and outbound.kind != "status":
            # an answer without the tweet it answers would be a public post to nobody
            raise ConnectorError(f"{outbound.kind} {outbound.idempotency_key}: no tweet to reply to", permanent=True)
        if look_first and self.is_retry(outbound.idempotency_key):
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

    def _dm(self, api: Api, outbound: Outbound) -> SendResult:
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

    def _find_sent_dm(self, api: Api, to: str, text: str) -> str | None:
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

    def _find_sent(self, api: Api, text: str, reply_to: str | None) -> str | None:
        """Our tweet with this text answering `reply_to`, among the bot's newest 100."""
        if self._me is None:
            self._me = str((api.call("users/me", self.client.get_me, user_auth=True).get("data") or {}).get("id"))
        body = api.call("timeline", self.client.get_users_tweets, self._me, max_results=100,
                        tweet_fields=["referenced_tweets", "conversation_id"], user_auth=True)
        wanted = _comparable(text)
        for tweet in body.get("data") or []:
            replied = replied_to(tweet)
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
