"""A real Dovecot IMAP server on loopback, for the email connector's tests, and the
helpers that run a receiver against it.

Started with a config of its own in a temporary folder (plain IMAP on a free port,
a passwd-file with test users, Maildir storage), stopped by its PID. Tests deliver
mail with IMAP APPEND from a second client, as a mail server's delivery agent would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from connectors.runner import run_receivers
from support.intake import staging as intake
from support.intake.receive import DatabaseSink
from tests.services import missing, quick_skip

WAIT = 30.0  # how long to wait for something that happens in well under a second


class InlineSink(DatabaseSink):
    """The hub's sink, with the worker's half run inline: submit commits the staged
    row (as in production) and then ingests it, so tests can watch tickets appear."""

    def __init__(self, settings):
        super().__init__(settings)
        self.submitted: list[str] = []

    def submit(self, inbound) -> None:
        staged = intake.submit([inbound], live=self.live, settings=self.settings)
        intake.process(staged, self.settings)
        self.submitted.append(inbound.external_id)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class Running:
    """A receiver in a thread, supervised by the real runner (backoff, health)."""

    def __init__(self, receivers, sink):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_receivers, args=(receivers, sink, self.stop_event), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the receiver did not stop when asked"


DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "support@example.test"
PASSWORD = "secret"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
info_log_path = {tmp}/dovecot.log
default_login_user = nobody
default_internal_user = nobody
default_internal_group = nogroup
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={tmp}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    folder: Path
    process: subprocess.Popen
    imaps_port: int = 0  # IMAP over TLS, when started with tls=True
    cafile: Path | None = None  # the self-signed certificate that a TLS client must trust

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into a folder, as the mail server's delivery would."""
        with self.client() as client:  # logs out at the end
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def restart(self) -> None:
        """Stop the server and start it again on the same ports with the same mail."""
        self.stop()
        self.start()

    def start(self) -> None:
        """Start the stopped server again on the same ports with the same mail."""
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_listening(self)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def running(users: dict[str, str] | None = None, *, tls: bool = False) -> Iterator[Dovecot]:
    """A Dovecot process serving `users` ({address: password}) until the block ends.
    Its folder is a fresh one under /tmp that Dovecot's unprivileged processes can
    reach (pytest's own temporary folders are private to root)."""
    tmp = Path(tempfile.mkdtemp(prefix="trkv-dovecot-"))
    try:
        with _running(tmp, users, tls) as server:
            yield server
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _running(tmp: Path, users: dict[str, str] | None, tls: bool = False) -> Iterator[Dovecot]:
    quick_skip("dovecot")
    if not os.path.exists(DOVECOT):
        missing("dovecot", f"{DOVECOT} not found")
    if os.geteuid() != 0:
        missing("dovecot", "the test server runs as root (it switches to nobody for mail)")
    users = users or {USER: PASSWORD}
    for name in ("run", "state", "mail"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    (tmp / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items()))
    port = free_port()
    imaps_port, cafile, ssl = 0, None, "ssl = no"
    if tls:
        if not shutil.which("openssl"):
            missing("openssl", "it makes the test server's certificate")
        cafile, key = self_signed_certificate(tmp)
        imaps_port = free_port()
        ssl = f"ssl = yes\nssl_cert = <{cafile}\nssl_key = <{key}"
    conf = tmp / "dovecot.conf"
    conf.write_text(CONFIG.format(tmp=tmp, port=port, imaps_port=imaps_port, ssl=ssl))
    subprocess.run(["chown", "-R", "nobody:nogroup", str(tmp / "mail")], check=True)
    os.chmod(tmp, 0o755)
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Dovecot("127.0.0.1", port, next(iter(users)), users[next(iter(users))], tmp, process, imaps_port, cafile)
    try:
        _wait_listening(server)
        yield server
    finally:
        server.stop()


def _wait_listening(server: Dovecot) -> None:
    for _ in range(200):
        if server.process.poll() is not None:
            output = server.process.stdout.read().decode(errors="replace") if server.process.stdout else ""
            missing("dovecot", f"it exited at start: {output[-500:]} {server.log()[-500:]}")
        try:
            with socket.create_connection((server.host, server.port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    server.stop()
    missing("dovecot", f"it did not listen on {server.port}: {server.log()[-500:]}")


def imap_processes(server: Dovecot) -> list[int]:
    """The pids of the server's `imap` processes (one per logged-in connection)."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(server.process.pid)], capture_output=True,
                         text=True).stdout
    return [int(pid) for pid, comm in (line.split(None, 1) for line in out.splitlines() if line.strip())
            if comm.strip() == "imap"]
