"""One typed settings object, from `TRKV_*` environment variables and an optional
`trkv.toml` (looked up at `$TRKV_CONFIG`, then `./trkv.toml`, then `$TRKV_HOME/trkv.toml`).

Environment variables win over the file. Secrets are `SecretStr`: their repr is
masked, so a settings object can be logged without leaking them. The database and
broker URLs are secrets too (they carry passwords): read them through `db_url` and
`broker`, and show them through `mask_url`.

Several hosts: every host sets the same `TRKV_DATABASE_URL`, `TRKV_BROKER_URL` and
`TRKV_SECRET_KEY`. The secret key signs session cookies, CSRF tokens and on-call
acknowledgement links, so one signed on host A verifies on host B only when both have
the same key. Without it each `TRKV_HOME` generates its own key (`$TRKV_HOME/secret_key`),
which is right for one machine and wrong for two.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from trkv.choices import WorkerPool


def _config_file() -> Path | None:
    candidates = [os.environ.get("TRKV_CONFIG"), "trkv.toml"]
    candidates.append(str(Path(os.environ.get("TRKV_HOME", "var")) / "trkv.toml"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRKV_", extra="ignore", case_sensitive=False)

    # core
    home: Path = Path("var")
    database_url: SecretStr | None = None  # default: sqlite in $TRKV_HOME; secret: it holds a password
    broker_url: SecretStr | None = None  # default: kombu's filesystem transport in $TRKV_HOME
    broker_polling_interval: float = 0.02  # embedded transport only: a poll is one listdir
    queue_prefix: str = ""  # isolates several hubs (or test runs) on one broker
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"  # unset: follows web_host and web_port
    # Signs session cookies, CSRF tokens and acknowledgement links. Set the same value on
    # every host of one hub; unset, each $TRKV_HOME generates its own (one machine).
    secret_key: SecretStr | None = None
    demo: bool | None = None  # None: on only when no channel has credentials
    demo_speed: float = 1.0
    log_level: str = "INFO"

    # SLA (hours); the seed's targets
    sla_critical_hours: float = 1
    sla_high_hours: float = 4
    sla_medium_hours: float = 12
    sla_low_hours: float = 24
    sla_email_hours: float = 24
    sla_x_hours: float = 2
    sla_discord_hours: float = 2
    resolution_hours: float = 24
    reopen_days: float = 7
    auto_close_days: float = 7  # a resolved ticket this quiet closes (0: never); a later reply opens a linked ticket

    # background work
    sweep_interval: float = 30.0  # seconds between sweeps
    requeue_after: float = 60.0  # a queued row untouched this long lost its broker message
    send_lease: float = 300.0  # a row stuck in "sending" this long is retried (same key)
    max_send_attempts: int = 8
    max_deliveries: int = 5  # a task redelivered more often is a poison message
    import_batch_size: int = 1000
    # a historical `trkv import` lowers its CPU priority (and its workers') by this much, so that
    # live messages and pages on the same machine come first (0: not at all)
    import_nice: int = 10
    # `trkv worker`'s Celery pool: auto (threads for the live queues alone, processes with bulk),
    # threads, prefork or solo (trkv.celery_app.pool_for)
    worker_pool: WorkerPool = "auto"

    # email
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_ssl: bool = True
    imap_starttls: bool = False
    imap_folders: str = "INBOX"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ssl: bool = False
    smtp_starttls: bool = True
    support_address: str = "support@trkv-web.app"
    support_name: str = "TRKV Support"  # the From name of what the hub sends
    support_aliases: str = ""  # more addresses of ours, comma-separated (mail from them is never acknowledged)
    imap_idle_renew: float = 300.0  # seconds; IDLE is re-issued within NAT idle timeouts (a dead link shows then)
    imap_poll_interval: float = 60.0  # seconds between polls when the server has no IDLE
    imap_timeout: float = 60.0
    smtp_timeout: float = 30.0
    kb_review_days: int = 90  # a published article not saved for this long is listed for review
    email_ack_window_minutes: float = 60.0  # at most one acknowledgement per sender in this window
    thank_praise: bool = True  # pure praise on X and Discord gets a short thank-you instead of an acknowledgement
    email_attachment_max_bytes: int = 262_144  # attachments up to this size keep their content

    # Discord
    discord_token: SecretStr | None = None
    discord_guild_id: str | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    # channel or category names/ids -> a category hint, "mention" (only messages that
    # mention the bot) or "ignore"; JSON in the environment. Empty: the seed's categories.
    discord_channels: dict[str, str] = Field(default_factory=dict)
    discord_backfill_hours: float = 0.0  # on the first connection only; later: from the cursors
    discord_threads: bool = True  # the bot opens a thread on a plain channel message it answers
    discord_announcements_channel: str = "announcements"  # a name (channel or category) or an id
    discord_guild_ready_timeout: float = 2.0  # seconds discord.py waits for guilds after READY

    # X
    x_bearer_token: SecretStr | None = None
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_api_base: str = "https://api.twitter.com"
    x_search_query: str = "trkv -is:retweet"
    x_bot_username: str = "trkvbot"
    # requests per 15-minute window for the account's API tier ("app" = bearer token,
    # "user" = OAuth 1.0a keys); the x-rate-limit-* headers X returns take precedence
    x_mentions_limit_app: int = 450
    x_mentions_limit_user: int = 180
    x_search_limit_app: int = 450
    x_search_limit_user: int = 180
    x_post_limit: int = 200
    x_dm_limit: int = 15  # reading the account's direct messages (GET /2/dm_events)
    x_read_dms: bool = True  # with the OAuth 1.0a user keys: customers' DMs become messages too
    x_poll_min_seconds: float = 10.0  # poll intervals derive from the limits, within these bounds
    x_poll_max_seconds: float = 120.0
    x_backfill_hours: float = 2.0  # on the very first poll, mentions this recent are fetched
    x_max_search_pages: int = 10  # pages of 100 fetched per search poll
    x_timeout_seconds: float = 30.0

    # on-call
    oncall_webhook_url: str | None = None
    oncall_webhook_secret: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"

    # on-call / SLA
    sla_warning_share: float = 0.75  # warn the assignee and the lead at this share of a target
    resolution_critical_hours: float | None = None  # None: resolution_hours
    resolution_high_hours: float | None = None
    resolution_medium_hours: float | None = None
    resolution_low_hours: float | None = None
    business_hours: str | None = None  # e.g. "mon-fri 09:00-17:00"; None: clocks run around the clock
    business_timezone: str = "UTC"
    business_holidays: str = ""  # comma-separated ISO dates, whole local days off
    page_repeat_minutes: float = 5.0  # wait before a re-page or the next escalation step
    alert_update_minutes: float = 5.0  # a grouped alert is updated at most this often
    alert_group_window_minutes: float = 15.0  # critical messages this close together may group
    alert_group_similarity: float = 0.5  # word-set likeness (Jaccard) that joins an alert
    page_ack_link_hours: float = 24.0  # how long a signed acknowledgement link works

    # incidents (support/incidents/)
    incident_components: str = "Web app,API,Authentication,Integrations,Notifications"  # comma-separated
    incident_min_contacts: int = 5  # distinct people whose alike urgent messages propose an incident
    incident_window_minutes: float = 15.0  # ... within this many minutes
    incident_similarity: float = 0.3  # likeness to a proposal's centroid that links a ticket (tuned on the DEV split)
    maintenance_remind_minutes: float = 60.0  # scheduled maintenance is reminded this long before it starts

    # web
    web_poll_seconds: float = 5.0  # how often an open inbox asks for new rows
    web_inbound_rate: float = 10.0  # POST /api/inbound: sustained requests per second per token
    web_inbound_burst: int = 100  # ... and how many may come at once

    # triage
    triage_confidence_threshold: float = 0.6  # below it a ticket is marked "needs triage"
    triage_model_dir: Path | None = None  # default: $TRKV_HOME/models
    triage_reload_seconds: float = 5.0  # how often a process looks for a newly promoted model
    triage_retrain_days: float = 7.0  # the beat task's period

    # feedback (support/feedback/)
    csat_delay_minutes: float = 60.0  # a survey goes out this long after resolution (0: the next sweep)
    csat_period_days: float = 7.0  # at most one survey per person (across linked contacts) in this period
    csat_link_days: float = 14.0  # how long a survey link works
    csat_targets: str = "discord:90,email:85,x:80,api:85"  # per-channel satisfaction targets, %

    # limits
    max_text_bytes: int = Field(default=1_000_000)

    @model_validator(mode="after")
    def _public_url_follows_the_web_address(self) -> Settings:
        if "public_url" not in self.model_fields_set and (self.web_host, self.web_port) != ("127.0.0.1", 8000):
            host = "127.0.0.1" if self.web_host in ("0.0.0.0", "::", "") else self.web_host
            self.public_url = f"http://{host}:{self.web_port}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # derived values -------------------------------------------------------

    @property
    def home_path(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def triage_models_path(self) -> Path:
        return (self.triage_model_dir.expanduser().resolve() if self.triage_model_dir
                else self.home_path / "models")

    @property
    def db_url(self) -> str:
        """The database URL itself (with its password): for engines, never for logs."""
        if self.database_url:
            return _reveal(self.database_url)
        return f"sqlite:///{self.home_path / 'trkv.db'}"

    @property
    def broker(self) -> str:
        """The broker URL itself (with its password): for Celery, never for logs."""
        return _reveal(self.broker_url) if self.broker_url else "filesystem://"

    @property
    def is_embedded_broker(self) -> bool:
        return self.broker.startswith("filesystem://")

    def live_channels(self) -> list[str]:
        """Channels whose credentials are set."""
        live = []
        if self.imap_host and self.imap_user:
            live.append("email")
        if self.discord_token:
            live.append("discord")
        if self.x_bearer_token or self.x_access_token:
            live.append("x")
        return live

    @property
    def demo_enabled(self) -> bool:
        if self.demo is not None:
            return self.demo
        return not self.live_channels()

    def sla_hours(self) -> dict[str, float]:
        return {
            "critical": self.sla_critical_hours,
            "high": self.sla_high_hours,
            "medium": self.sla_medium_hours,
            "low": self.sla_low_hours,
        }

    def channel_sla_hours(self) -> dict[str, float]:
        return {"email": self.sla_email_hours, "x": self.sla_x_hours, "discord": self.sla_discord_hours}

    def session_secret(self) -> str:
        """The cookie-signing key: configured, or generated once into $TRKV_HOME."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.home_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(32).hex())
        return path.read_text().strip()


def _reveal(value: SecretStr | str) -> str:
    # model_copy(update=...) skips validation, so a plain string may stand here too
    return value.get_secret_value() if isinstance(value, SecretStr) else value


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^/@:\s]*:)[^@\s/]*@", re.IGNORECASE)


def mask_url(text: str) -> str:
    """`scheme://user:password@host` → `scheme://user:***@host`, anywhere in a text (a log line,
    an error message quoting a URL)."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***@", text)


class MaskUrlPasswords(logging.Filter):
    """A logging filter: the passwords of URLs in a record's message are masked, whoever logged it
    (a driver's error may quote the URL it was given)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings(**overrides: Any) -> Settings:
    """Forget cached settings (tests, and `trkv` commands that set variables)."""
    get_settings.cache_clear()
    return get_settings()
