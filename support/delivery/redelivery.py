"""A cap on redeliveries, so a message that kills its worker cannot loop forever.

With acks_late and reject_on_worker_lost, a task whose worker died is delivered
again. Only redelivered tasks are counted (one write each), so the normal path
costs nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from storage.db import transaction
from storage.models.base import utcnow
from storage.models.delivery import TaskDelivery
from storage.queries import insert_ignoring_conflicts
from trkv.settings import Settings

log = logging.getLogger(__name__)


def allow_redelivery(task_id: str, name: str, settings: Settings) -> bool:
    with transaction(settings.db_url) as session:
        session.execute(insert_ignoring_conflicts(session, TaskDelivery).values(task_id=task_id, name=name, deliveries=0))
        session.execute(
            update(TaskDelivery)
            .where(TaskDelivery.task_id == task_id)
            .values(deliveries=TaskDelivery.deliveries + 1, updated_at=utcnow())
        )
        count = session.execute(select(TaskDelivery.deliveries).where(TaskDelivery.task_id == task_id)).scalar_one()
    if count > settings.max_deliveries:
        log.error("task %s (%s) was delivered %d times; dropping the message, the sweep owns its rows",
                  task_id, name, count)
        return False
    return True
