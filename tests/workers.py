"""Real Celery worker processes for tests, on a real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.services import RABBIT_HOST, REDIS_HOST, require

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Broker:
    kind: str
    url: str | None  # None: the embedded filesystem transport
    prefix: str

    def cleanup(self) -> None:
        if self.kind == "amqp":
            from kombu import Connection

            with Connection(self.url) as conn:
                channel = conn.channel()
                for name in ("critical", "default", "bulk"):
                    channel.queue_delete(self.prefix + name)
                    channel.exchange_delete(self.prefix + name)
        elif self.kind == "redis":
            import redis

            client = redis.Redis.from_url(self.url)
            keys = list(client.scan_iter(f"{self.prefix}*"))
            if keys:
                client.delete(*keys)


def make_broker(kind: str) -> Broker:
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    if kind == "amqp":
        require("rabbitmq")
        return Broker(kind, f"amqp://guest:guest@{RABBIT_HOST}//", prefix)
    if kind == "redis":
        require("redis")
        return Broker(kind, f"redis://{REDIS_HOST}/0", prefix)
    return Broker(kind, None, prefix)


class Worker:
    """`celery worker` as a child process in its own process group, so that a test
    can SIGKILL the whole worker (main process and pool children) at once."""

    def __init__(self, env: dict[str, str], log_path: Path, queues=("critical", "default", "bulk"), beat=False,
                 concurrency: int = 2, pool: str = "auto"):
        from trkv.celery_app import pool_for

        self.env = env
        self.log_path = log_path
        prefix = env.get("TRKV_QUEUE_PREFIX", "")
        self.argv = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-c", str(concurrency),
                     "-P", pool_for(queues, pool), "--loglevel", "INFO",  # the pool `trkv worker` picks
                     "-Q", ",".join(prefix + q for q in queues), "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            self.argv += ["-B", "-s", str(log_path.parent / f"beat-{uuid.uuid4().hex[:6]}")]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> Worker:
        self._log = open(self.log_path, "ab")
        offset = self.log_path.stat().st_size
        # A process group of its own (killed together), in this session: as `trkv up` runs them,
        # so the workers share one scheduling group (Linux autogroup) and nice values count between them.
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                        process_group=0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # a hang guard, not a speed check
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if b" ready." in self.log_path.read_bytes()[offset:]:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker did not become ready:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the main process and its pool children together."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def worker_env(settings, broker: Broker, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRKV_")}
    env.update({
        "TRKV_HOME": str(settings.home_path),
        "TRKV_DATABASE_URL": settings.db_url,
        "TRKV_QUEUE_PREFIX": broker.prefix,
        "TRKV_DEMO": "0",
        "PYTHONPATH": str(ROOT),
    })
    if broker.url:
        env["TRKV_BROKER_URL"] = broker.url
    env.update({f"TRKV_{k.upper()}": str(v) for k, v in extra.items()})
    return env
