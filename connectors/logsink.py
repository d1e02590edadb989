"""The `log` channel: a stand-in receiver that appends each delivery to a JSONL file.

It behaves like a real receiver that honours idempotency keys: a resend with a key
it has seen is acknowledged but not written again (and counted), so tests can check
that each outbox row reached the customer exactly once.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
from pathlib import Path

from connectors.base import Outbound, SendResult


class LogSender:
    def __init__(self, path: Path, channel: str = "log"):
        self.path = Path(path)
        self.channel = channel
        self._seen: set[str] = set()
        self._offset = 0

    def send(self, outbound: Outbound) -> SendResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several worker processes share the file
            self._catch_up(handle)
            duplicate = outbound.idempotency_key in self._seen
            record = {"key": outbound.idempotency_key, "channel": outbound.channel, "kind": outbound.kind,
                      "to": outbound.to, "text": outbound.text, "duplicate": duplicate}
            handle.seek(0, os.SEEK_END)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            self._offset = handle.tell()
            self._seen.add(outbound.idempotency_key)
        return SendResult(external_id=f"log:{outbound.idempotency_key}")

    def _catch_up(self, handle) -> None:
        handle.seek(self._offset)
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not record.get("duplicate"):
                self._seen.add(record["key"])


def read_deliveries(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@functools.lru_cache(maxsize=32)
def shared(path: str, channel: str) -> LogSender:
    """One LogSender per file and channel in a process, so appends share its lock."""
    return LogSender(path, channel)
