"""The Celery app's configuration, and nothing of the workflows: they send tasks by name
(`trkv.dispatch`, `trkv.ingest`, ...) through this app, and `worker.py` defines them.

Queues: `critical` (pages; a worker of its own with prefetch 1, never behind bulk
work), `default` (ingest, acknowledgements, the sweep) and `bulk`. The same code
runs on RabbitMQ (`amqp://`), Redis (`redis://`) and the embedded default, kombu's
filesystem transport under $TRKV_HOME/broker, chosen by TRKV_BROKER_URL alone.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue, pools
from kombu.transport import TRANSPORT_ALIASES

from trkv.settings import Settings, get_settings

QUEUES = ("critical", "default", "bulk")


def pool_for(queues, choice: str = "auto") -> str:
    """The Celery pool of a worker consuming `queues` (names without the prefix): `choice`, or
    for "auto" threads where the worker serves only live queues, processes where it serves bulk.

    A live task mostly waits on the database and the broker. In a prefork pool each task takes
    two hops between processes (the consumer hands it to a child through a pipe, the child
    answers back), and on a busy machine every hop is a wake-up that may wait for a core:
    measured by bench/paging.py on PostgreSQL + RabbitMQ during an import, the live path's p99
    was 69-126 ms with prefork (11 runs) and 55-70 ms with threads (9 runs; page p99 240-250 ->
    184-208 ms). Bulk work (search indexing, retraining) is CPU-heavy Python, and keeps processes:
    in threads it would hold the interpreter's lock against the live tasks beside it."""
    if choice != "auto":
        return choice
    return "threads" if set(queues) <= {"critical", "default"} else "prefork"


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
            "kb-weekly": {"task": "trkv.kb_weekly", "schedule": 3600.0,  # mails on Mondays only
                          "options": {"queue": queue_name("bulk", settings), "expires": 3600}},
            "kb-coverage": {"task": "trkv.kb_coverage", "schedule": 600.0,  # keeps the dashboard's samples checked
                            "options": {"queue": queue_name("bulk", settings), "expires": 600}},
            "day-stats": {"task": "trkv.day_stats", "schedule": 60.0,  # the dashboard's rollup
                          "options": {"queue": queue_name("bulk", settings), "expires": 60}},
            "maintenance": {"task": "trkv.maintenance", "schedule": 30.0,  # scheduled maintenance, on time
                            "options": {"queue": queue_name("default", settings), "expires": 30}},
            "search-index": {"task": "trkv.search_index", "schedule": 60.0,  # a lost kick's safety net
                             "options": {"queue": queue_name("bulk", settings), "expires": 60}},
            "demo-agent": {"task": "trkv.demo_agent", "schedule": 30.0,  # a no-op unless the demo is on
                           "options": {"queue": queue_name("bulk", settings), "expires": 30}},
        },
        beat_schedule_filename=str(settings.home_path / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app


app = configure(Celery("trkv"), get_settings())


def reconfigure(settings: Settings) -> Celery:
    """Point the app at other settings (tests, and `trkv` commands that change them)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None  # it holds the old connection pool
    pools.reset()  # kombu's global producer pools are keyed by URL and would hand the old one back
    return configure(app, settings)
