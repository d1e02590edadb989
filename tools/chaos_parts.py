"""The services the chaos run owns, so that its faults disturb nothing else on the machine:
a RabbitMQ node and a PostgreSQL cluster of its own (own ports, own data folders, under
/tmp), the real `trkv connect email` process, and the mail a customer sends (IMAP APPEND
into the run's own Dovecot, as a delivery agent puts it there)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, localtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, up: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while listening(port) != up:
        if time.monotonic() > deadline:  # a hang guard
            raise RuntimeError(f"port {port} did not {'open' if up else 'close'} within {timeout:g} s")
        time.sleep(0.2)


def _as(user: str, argv: list[str]) -> list[str]:
    """Run as `user` when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


class RabbitNode:
    """`rabbitmq-server` on its own node name, ports and data folder; a restart is
    stop_app (every connection closed, the node answers nothing) then start_app."""

    def __init__(self):
        # A folder of its own under /tmp: the server runs as the rabbitmq user, which must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="trkv-rabbit-"))
        self.folder.chmod(0o755)
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"trkvchaos{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        f = self.folder
        return {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq.conf"),
                "RABBITMQ_MNESIA_BASE": str(f / "mnesia"), "RABBITMQ_LOG_BASE": str(f / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "plugins"), "RABBITMQ_FEATURE_FLAGS_FILE": str(f / "ff"),
                "RABBITMQ_PID_FILE": str(f / "pid")}

    def start(self, timeout: float = 120) -> RabbitNode:
        if shutil.which("rabbitmq-server") is None:
            raise RuntimeError("rabbitmq-server is not installed")
        for sub in ("mnesia", "log"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        if os.geteuid() == 0:  # the server script drops to the rabbitmq user
            subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.folder)], check=False)
        with open(self.folder / "server.out", "ab") as out:
            subprocess.Popen(["rabbitmq-server"], env=self._env(), stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        wait_port(self.port, True, timeout)
        return self

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, *args], env=self._env(), check=True, capture_output=True,
                       timeout=120)

    def restart(self, down: float) -> None:
        self.ctl("stop_app")
        time.sleep(down)
        self.ctl("start_app")

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self._env(), capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresCluster:
    """A PostgreSQL cluster of the run's own (initdb of the installed PostgreSQL, its own
    port and socket folder, trust on loopback); a restart is an immediate stop (as a crash:
    every connection cut, recovery from the WAL at start) and a start."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="trkv-pg-"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        self.port = free_port()

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(_as("postgres", ["pg_ctl", "-D", str(self.data), *args]), check=check, capture_output=True,
                       timeout=180, cwd="/tmp")

    def start(self) -> PostgresCluster:
        for tool in ("initdb", "pg_ctl"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed")
        if not self.data.exists():
            if os.geteuid() == 0:
                subprocess.run(["chown", "postgres", str(self.folder)], check=True)
            subprocess.run(_as("postgres", ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                                            "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, cwd="/tmp")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._ctl("-l", str(self.folder / "server.log"), "-o", options, "-w", "-t", "120", "start")
        return self

    def restart(self, down: float) -> None:
        self._ctl("-m", "immediate", "-w", "stop")
        time.sleep(down)
        self.start()

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


class Connector:
    """The real `trkv connect email` process, in a process group of its own (SIGKILLable)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Connector:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "trkv.cli", "connect", "email"], cwd=ROOT, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
            self._log.close()


def customer_mail(i: int, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {i} <c{i}@example.com>"
    msg["To"] = to
    msg["Subject"] = f"Export question {i}"
    msg["Date"] = format_datetime(localtime())
    msg["Message-ID"] = f"<chaos-{i}@mail.example>"
    msg.set_content(f"Hello, how do I export my projects to CSV? I tried {i} times and the button does nothing.\n")
    return msg.as_bytes()


def deliver(server, start: int, count: int) -> None:
    """Customers' mail into the INBOX, as the mail server's delivery agent puts it there."""
    with server.client() as client:
        for i in range(start, start + count):
            client.append("INBOX", customer_mail(i, server.user))
