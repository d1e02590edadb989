"""The Celery tasks, thin: ids in, one workflow call, return. The app and its queues
are configured in `trkv.celery_app`, which imports no workflow, so workflows can send
these tasks by name without importing this module.
"""

from __future__ import annotations

import gc
import logging

from celery import Task
from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, worker_init, worker_process_init

from trkv import memory
from trkv.celery_app import QUEUES, app, configure, queue_name, reconfigure
from trkv.settings import MaskUrlPasswords, get_settings

__all__ = ["QUEUES", "app", "configure", "queue_name", "reconfigure"]

log = logging.getLogger("trkv.worker")


class GuardedTask(Task):
    """Counts redeliveries; a message redelivered too often is dropped (its rows stay
    in the database, where the sweep and the attempt counters deal with them)."""

    def __call__(self, *args, **kwargs):
        info = self.request.delivery_info or {}
        if info.get("redelivered"):
            from support.delivery.redelivery import allow_redelivery

            if not allow_redelivery(self.request.id, self.name, get_settings()):
                return None
        return super().__call__(*args, **kwargs)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_secrets(logger: logging.Logger, **_kwargs) -> None:
    """The handlers Celery adds (the task logger's own, a `--logfile`) mask URL passwords
    too, as `trkv`'s own do: a driver's error quoting a broker or database URL stays safe."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskUrlPasswords) for f in handler.filters):
            handler.addFilter(MaskUrlPasswords())


# What the tasks import when they run: the live path's workflows and what they call.
WARM_MODULES = ("support.intake.staging", "support.intake.ingest", "support.delivery.dispatch",
                "support.delivery.outbox", "support.kb.acks", "support.kb.responses", "support.oncall.paging",
                "support.incidents.detect", "support.oncall.sweep")


@worker_init.connect
def _warm(sender=None, **_kwargs) -> None:
    """Before its pool starts, the worker loads what a live message needs: the workflow modules
    and, where it ingests (the default queue), the triage model. Every pool thread, or forked
    pool process, starts with them, shared, instead of loading them during its first messages
    (measured in bench/paging.py: 1.8 s for a process's first message, and 0.1-0.2 s more for its
    first ordinary one)."""
    import importlib

    for module in WARM_MODULES:
        importlib.import_module(module)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    if queue_name("default") in sender.app.amqp.queues.consume_from:
        from triage.classifier import active_model

        try:
            active_model()
        except Exception:  # noqa: BLE001 - no model yet: the first message trains or fails as before
            log.warning("the triage model could not be loaded ahead of the first message", exc_info=True)
    gc.freeze()  # what it loaded is not garbage: the collections of a thread pool's tasks skip it too


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    """Pooled database connections must not cross a fork: the child forgets the
    parent's without closing them (closing would end them for the parent too)."""
    from storage.db import dispose_engines

    dispose_engines(close=False)
    memory.tune()
    gc.freeze()  # what the parent imported is not garbage: collections in this process skip it


_trim = memory.Trimmer()
_freeze = memory.freeze_once_warm()


@task_postrun.connect
def _give_memory_back(**_kwargs) -> None:
    """A pool process hands its free heap pages back once a minute (`trkv.memory`): without
    it a one-hour soak at 50 messages/s saw its RSS creep up with no object left behind.
    After its first tasks it also freezes what they built, out of the cyclic collector's way."""
    _trim()
    _freeze()


@app.task(base=GuardedTask, name="trkv.ingest")
def ingest(staged_ids: list[int]) -> int:
    from support.intake.staging import process

    return len(process(staged_ids))


@app.task(base=GuardedTask, name="trkv.dispatch", bind=True, max_retries=None)
def dispatch(self, outbox_id: int) -> str:
    from support.delivery.dispatch import dispatch as send

    outcome = send(outbox_id)
    if outcome.status == "retry":
        # A short countdown only: the sweep, not a long ETA, is the safety net.
        raise self.retry(countdown=min(60, 2 ** min(self.request.retries, 6)))
    return outcome.status


@app.task(base=GuardedTask, name="trkv.sweep")
def sweep() -> dict:
    from support.oncall.sweep import sweep as run

    report = run()
    return {"breaches": len(report.breaches), "rekicked": report.rekicked_inbound + report.rekicked_outbox}


@app.task(base=GuardedTask, name="trkv.triage_retrain")
def triage_retrain() -> dict:
    """Weekly: retrain on seed + corrections; promote if not worse. Every process picks a
    promoted model up by itself (triage.classifier watches the pointer file)."""
    from support.retrain import retrain

    outcome = retrain(get_settings())
    return {"version": outcome.version, "promoted": outcome.promoted, "corrections": outcome.corrections}


@app.task(base=GuardedTask, name="trkv.weekly_review")
def weekly_review() -> int:
    """Hourly: on Monday from 08:00 in the team's time zone, the last week's review is
    mailed to the leads, once per lead and week (the outbox key says which)."""
    from support.feedback.review_mail import send_weekly

    return len(send_weekly(get_settings()))


@app.task(base=GuardedTask, name="trkv.kb_coverage")
def kb_coverage() -> int:
    """Every 10 minutes: the KB searches behind documentation coverage, for the dashboard's
    windows, so a page view reads kept answers instead of searching."""
    from support.kb.coverage import refresh

    return refresh(get_settings())


@app.task(base=GuardedTask, name="trkv.day_stats")
def day_stats() -> int:
    """Every minute: fold the days whose tickets changed into the dashboard's rollup, so a
    view counts only today's tickets (and any day changed in the last minute) itself."""
    from support.tickets.metrics import fold_day_stats

    return fold_day_stats(get_settings())


@app.task(base=GuardedTask, name="trkv.kb_weekly")
def kb_weekly(now: str | None = None) -> int:
    """Hourly: on Monday from 08:00 in the team's time zone, the weekly KB update is mailed to
    the support engineers and leads, once per person and ISO week (the outbox key says which).
    `now` (ISO 8601) stands in for the clock, for a test or a catch-up run."""
    from datetime import datetime

    from support.kb.weekly_mail import send_weekly

    return len(send_weekly(get_settings(), datetime.fromisoformat(now) if now else None))


@app.task(base=GuardedTask, name="trkv.maintenance")
def maintenance() -> int:
    """Every 30 s: scheduled maintenance announced, reminded, started and completed on
    time, each notice once (the phase is claimed by a conditional UPDATE)."""
    from support.incidents.maintenance import tick

    return len(tick(get_settings()))


@app.task(base=GuardedTask, name="trkv.search_index")
def search_index() -> int:
    """Kicked when a historical import ends, and every minute as the safety net: its tickets
    go into the full-text index, a short transaction per batch, one indexer at a time, a few
    seconds per task (support/tickets/search_index.py)."""
    from support.tickets.search_index import run_task

    return run_task(get_settings())


@app.task(base=GuardedTask, name="trkv.demo_agent")
def demo_agent() -> dict:
    """With the demo feed on: history once, then replies, resolutions and survey answers."""
    from support.feedback.demo import tick

    return tick(get_settings())
