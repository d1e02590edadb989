"""Hubs as a deployment runs them, for the multi-host and chaos tests: each host has its
own $TRKV_HOME and real `trkv web` and `trkv worker` processes, on one shared database
and one shared broker, with one shared TRKV_SECRET_KEY."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from connectors.logsink import read_deliveries
from tests.workers import ROOT, Broker, Worker

TRKV = [sys.executable, "-m", "trkv.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TrkvWorker(Worker):
    """`trkv worker -B` (the CLI a deployment runs), killable as a process group."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str):
        super().__init__(env, log_path)
        self.argv = [*TRKV, "worker", "-c", "2", "-B", "-n", f"{name}@%h"]


class Web:
    """`trkv web` on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "ab")
        self.log_path = log_path
        self.process = subprocess.Popen([*TRKV, "web", "--port", str(self.port)], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> Web:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # a hang guard, not a speed check
            if self.process.poll() is not None:
                raise RuntimeError(f"trkv web exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"trkv web did not answer:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


class Host:
    """One host: a home, a web process and a worker (with beat)."""

    def __init__(self, name: str, folder: Path, db_url: str, broker: Broker, secret: str, receiver: Path,
                 **settings: str):
        self.name, self.home = name, folder / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        # One receiver for every host, as the customers' mailboxes are: it deduplicates by key.
        (self.home / "sent.jsonl").symlink_to(receiver)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
        self.env.update({"TRKV_HOME": str(self.home), "TRKV_DATABASE_URL": db_url, "TRKV_BROKER_URL": broker.url,
                         "TRKV_QUEUE_PREFIX": broker.prefix, "TRKV_DEMO": "0", "TRKV_SECRET_KEY": secret,
                         "TRKV_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)})
        self.env.update({f"TRKV_{k.upper()}": str(v) for k, v in settings.items()})
        self.folder = folder
        self.web: Web | None = None
        self.worker: TrkvWorker | None = None

    def start(self) -> Host:
        self.web = Web(self.env, self.folder / "web.log")
        self.start_worker()
        self.web.wait_ready()
        return self

    def start_worker(self) -> TrkvWorker:
        self.worker = TrkvWorker(self.env, self.folder / "worker.log", self.name).start()
        return self.worker

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.web is not None:
            self.web.stop()


def deliveries(receiver: Path) -> tuple[Counter, int]:
    """(how often each key reached the customer, how many resends the receiver recognised)."""
    records = read_deliveries(receiver)
    return Counter(r["key"] for r in records if not r["duplicate"]), sum(1 for r in records if r["duplicate"])
