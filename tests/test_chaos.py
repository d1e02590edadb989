"""The small chaos run of CI (`make chaos` is the large one): customers' mail through a
whole hub (Dovecot, the real `trkv connect email`, a real `trkv worker -B`) on a
PostgreSQL cluster and a RabbitMQ node of the test's own, while in turn RabbitMQ and
PostgreSQL are restarted, the worker and the connector are SIGKILLed and the IMAP server
is stopped: nothing lost, nothing a customer sees twice, every fault recovered."""

from __future__ import annotations

import shutil
import sys

from tests.services import missing, quick_skip, require
from tests.workers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import chaos  # noqa: E402

MESSAGES = 300
IMAP_DOWN = 20  # seconds; `make chaos` stops it for a minute


def test_five_faults_lose_and_double_nothing(tmp_path):
    for service in ("postgresql", "rabbitmq", "dovecot"):
        quick_skip(service)
    require("rabbitmq")  # its Erlang tools, for the node of the test's own
    for tool, service in (("rabbitmq-server", "rabbitmq"), ("initdb", "postgresql"), ("pg_ctl", "postgresql")):
        if shutil.which(tool) is None:
            missing(service, f"{tool} is not installed here (the chaos run restarts a server of its own)")
    figures = chaos.hub_run(tmp_path, MESSAGES, imap_down=IMAP_DOWN)
    print(figures)
    assert list(figures) == list(chaos.FAULTS)
    for fault, f in figures.items():
        assert f["lost"] == 0 and f["quarantined"] == 0, (fault, f)
        assert f["messages_stored_twice"] == 0 and f["duplicate_tickets"] == 0, (fault, f)
        assert f["customer_visible_duplicates"] == 0, (fault, f)
        assert f["seconds_to_recover"] is not None, (fault, f)  # recovered within the run's hang guard
    assert figures["imap_stop"]["acknowledgements_sent"] == MESSAGES  # every customer heard back, once
