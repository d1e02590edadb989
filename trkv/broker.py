"""The embedded broker: kombu's filesystem transport, made safe for several processes.

kombu's own `_put` creates the message file and then writes it, so a consumer polling
at that moment can take the empty file and its worker dies on a JSON error (we saw
this under load). Here a message is written under a temporary name in another
folder and renamed into the queue folder: a rename is atomic, so a consumer sees a
whole file or none. A consumer claims a file by renaming it into the processed
folder (on the same filesystem, so that is atomic too): when two workers race for
one file, one wins and the other moves on.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000)):015d}_{uuid.uuid4()}.{queue}.msg"
        staging = Path(self.processed_folder) / f".put-{name}"
        try:
            with open(staging, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.rename(staging, Path(self.data_folder_out) / name)
        except OSError as exc:
            raise ChannelError(f"cannot add {name!r} to the queue folder: {exc}") from exc

    def _get(self, queue):
        suffix = f".{queue}.msg"
        for name in sorted(n for n in os.listdir(self.data_folder_in) if n.endswith(suffix)):
            claimed = Path(self.processed_folder) / f".get-{uuid.uuid4().hex}-{name}"
            try:
                os.rename(Path(self.data_folder_in) / name, claimed)
            except OSError:
                continue  # another consumer took it
            try:
                payload = claimed.read_bytes()
                if not self.store_processed:
                    claimed.unlink()
            except OSError as exc:
                raise ChannelError(f"cannot read {name!r}: {exc}") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
