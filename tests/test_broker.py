"""The embedded broker (filesystem://) shared by several worker processes."""

from __future__ import annotations

import multiprocessing
from queue import Empty

from kombu import Connection

import worker  # noqa: F401  (registers filesystem:// as trkv.broker)


def _options(tmp_path) -> dict:
    for name in ("queue", "processed", "control"):
        (tmp_path / name).mkdir(exist_ok=True)
    return {"data_folder_in": str(tmp_path / "queue"), "data_folder_out": str(tmp_path / "queue"),
            "processed_folder": str(tmp_path / "processed"), "control_folder": str(tmp_path / "control"),
            "store_processed": False, "polling_interval": 0.01}


def _consume(options: dict, out) -> None:
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue("work")
        taken = []
        while True:
            try:
                message = queue.get(block=True, timeout=1)
            except Empty:
                break
            taken.append(message.payload)
            message.ack()  # unacknowledged messages go back to the queue when the channel closes
        out.put(taken)


def test_two_consumers_share_a_queue_without_losing_or_repeating_a_message(tmp_path):
    options = _options(tmp_path)
    results = multiprocessing.get_context("fork").Queue()
    consumers = [multiprocessing.get_context("fork").Process(target=_consume, args=(options, results)) for _ in range(2)]
    for process in consumers:
        process.start()
    with Connection("filesystem://", transport_options=options) as conn:  # published while both consume
        queue = conn.SimpleQueue("work")
        for number in range(300):
            queue.put({"n": number, "padding": "x" * 300_000})  # a long write: a half-written file is visible
    taken = results.get(timeout=60) + results.get(timeout=60)
    for process in consumers:
        process.join(timeout=30)
    numbers = [payload["n"] for payload in taken]
    assert sorted(numbers) == list(range(300))  # each message exactly once, none half-read
    assert not list((tmp_path / "processed").iterdir())  # claimed files are removed once read
