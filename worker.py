"""The Celery app and its thin tasks: ids in, one workflow call, return.

Queues: `critical` (pages; a worker of its own with prefetch 1, never behind bulk
work), `default` (ingest, acknowledgements, the sweep) and `bulk`. The same code
runs on RabbitMQ (`amqp://`), Redis (`redis://`) and the embedded default, kombu's
filesystem transport under $TRKV_HOME/broker, chosen by TRKV_BROKER_URL alone.
"""

from __future__ import annotations

import logging

from celery import Celery, Task
from celery.signals import worker_process_init
from kombu import Exchange, Queue, pools
from kombu.transport import TRANSPORT_ALIASES

from trkv.settings import Settings, get_settings

log = logging.getLogger("trkv.worker")

QUEUES = ("critical", "default", "bulk")

# filesystem:// means our multi-process-safe variant of kombu's filesystem transport.
TRANSPORT_ALIASES["filesystem"] = "trkv.broker:Transport"


def queue_name(name: str, settings: Settings | None = None) -> str:
    return f"{(settings or get_settings()).queue_prefix}{name}"


def _transport_options(settings: Settings) -> dict:
    if settings.is_embedded_broker:
        folder = settings.home_path / "broker"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": settings.broker_polling_interval,
        }
    if settings.broker.startswith(("redis://", "rediss://")):
        # Longer than the longest task, or Redis hands an unacked task to a second worker.
        options = {"visibility_timeout": 3600}
        if settings.queue_prefix:
            options["global_keyprefix"] = settings.queue_prefix
        return options
    return {}


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def configure(app: Celery, settings: Settings) -> Celery:
    app.conf.update(
        broker_url=settings.broker,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_queues=[_queue(queue_name(q, settings)) for q in QUEUES],
        task_default_queue=queue_name("default", settings),
        beat_schedule={
            "sweep": {"task": "trkv.sweep", "schedule": settings.sweep_interval,
                      "options": {"queue": queue_name("default", settings), "expires": settings.sweep_interval}},
            "triage-retrain": {"task": "trkv.triage_retrain", "schedule": settings.triage_retrain_days * 86400,
                               "options": {"queue": queue_name("bulk", settings)}},
            "weekly-review": {"task": "trkv.weekly_review", "schedule": 3600.0,  # sends on Mondays only
                              "options": {"queue": queue_name("bulk", settings), "expires": 3600}},
            "demo-agent": {"task": "trkv.demo_agent", "schedule": 30.0,  # a no-op unless the demo is on
                           "options": {"queue": queue_name("bulk", settings), "expires": 30}},
        },
        beat_schedule_filename=str(settings.home_path / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app


class GuardedTask(Task):
    """Counts redeliveries; a message redelivered too often is dropped (its rows stay
    in the database, where the sweep and the attempt counters deal with them)."""

    def __call__(self, *args, **kwargs):
        info = self.request.delivery_info or {}
        if info.get("redelivered"):
            from support.deliveries import allow_redelivery

            if not allow_redelivery(self.request.id, self.name, get_settings()):
                return None
        return super().__call__(*args, **kwargs)


app = configure(Celery("trkv", task_cls=GuardedTask), get_settings())


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    """Pooled database connections must not cross a fork: the child forgets the
    parent's without closing them (closing would end them for the parent too)."""
    from storage.db import dispose_engines

    dispose_engines(close=False)


@app.task(name="trkv.ingest")
def ingest(staged_ids: list[int]) -> int:
    from support.intake import process

    return len(process(staged_ids))


@app.task(name="trkv.dispatch", bind=True, max_retries=None)
def dispatch(self, outbox_id: int) -> str:
    from support.dispatch import dispatch as send

    outcome = send(outbox_id)
    if outcome.status == "retry":
        # A short countdown only: the sweep, not a long ETA, is the safety net.
        raise self.retry(countdown=min(60, 2 ** min(self.request.retries, 6)))
    return outcome.status


@app.task(name="trkv.sweep")
def sweep() -> dict:
    from support.sweep import sweep as run

    report = run()
    return {"breaches": len(report.breaches), "rekicked": report.rekicked_inbound + report.rekicked_outbox}


@app.task(name="trkv.triage_retrain")
def triage_retrain() -> dict:
    """Weekly: retrain on seed + corrections; promote if not worse. Every process picks a
    promoted model up by itself (triage.classifier watches the pointer file)."""
    from support.retrain import retrain

    outcome = retrain(get_settings())
    return {"version": outcome.version, "promoted": outcome.promoted, "corrections": outcome.corrections}


@app.task(name="trkv.weekly_review")
def weekly_review() -> int:
    """Hourly: on Monday from 08:00 in the team's time zone, the last week's review is
    mailed to the leads, once per lead and week (the outbox key says which)."""
    from support.feedback.review_mail import send_weekly

    return len(send_weekly(get_settings()))


@app.task(name="trkv.demo_agent")
def demo_agent() -> dict:
    """With the demo feed on: history once, then replies, resolutions and survey answers."""
    from support.feedback.demo import tick

    return tick(get_settings())


def reconfigure(settings: Settings) -> Celery:
    """Point the app at other settings (tests, and `trkv` commands that change them)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None  # it holds the old connection pool
    pools.reset()  # kombu's global producer pools are keyed by URL and would hand the old one back
    return configure(app, settings)
