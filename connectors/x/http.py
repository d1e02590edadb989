"""X (Twitter) HTTP: the tweepy client pointed at any base URL, and requests made
through the rate budget with retry and backoff, failures turned into ConnectorErrors."""

from __future__ import annotations

from collections.abc import Callable

import requests
import requests.adapters
import tweepy

from connectors.base import ConnectorError
from connectors.x.budget import RateBudget

TWITTER = "https://api.twitter.com"
TWEET_FIELDS = ["author_id", "conversation_id", "created_at", "entities", "in_reply_to_user_id", "note_tweet",
                "referenced_tweets"]
# author, replied/quoted/retweeted tweets and their authors, the user replied to
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "in_reply_to_user_id"]
USER_FIELDS = ["name", "username"]
MENTIONS_KEPT = 800  # the mentions timeline returns only the newest 800
DM_EVENT_FIELDS = ["created_at", "dm_conversation_id", "event_type", "sender_id", "text"]


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


class Api:
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
