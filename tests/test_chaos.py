"""The small chaos run of CI (`make chaos` is the large one): messages through a hub on
PostgreSQL and a RabbitMQ node of the test's own while RabbitMQ is restarted and the
worker is SIGKILLed: nothing lost, nothing a customer sees twice, every fault recovered."""

from __future__ import annotations

import shutil
import sys

from tests.conftest import make_db_url
from tests.services import missing, require
from tests.workers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import chaos  # noqa: E402


def test_restarting_rabbitmq_and_killing_a_worker_lose_and_double_nothing(request, tmp_path, monkeypatch):
    require("postgresql")
    require("rabbitmq")
    if shutil.which("rabbitmq-server") is None:
        missing("rabbitmq", "rabbitmq-server is not installed here (the chaos run restarts a node of its own)")
    db_url = make_db_url("postgresql", request, tmp_path)
    rabbit = chaos.RabbitNode().start()
    try:
        figures = chaos.hub_run(tmp_path, db_url, rabbit, messages=300, setenv=monkeypatch.setenv)
    finally:
        rabbit.stop()
    print(figures)
    for fault, f in figures.items():
        assert f["lost"] == 0 and f["duplicate_tickets"] == 0, (fault, f)
        assert f["customer_visible_duplicates"] == 0, (fault, f)
        assert f["seconds_to_recover"] is not None, (fault, f)  # recovered within the run's hang guard
