"""Following Suricata's EVE JSON log like `tail -F`, resumable across restarts.

The position is (inode, offset): saved after every batch, it lets a restart
continue exactly where the last run stopped. When the log is rotated (the
file at the path has a new inode) the rest of the old file is read first if
it is still beside it (eve.json.1, eve.json-20261203, …), then the new file
from its start. A file that shrank in place (copytruncate), or whose first
bytes changed while we were away, is read from its start. A line is consumed
only once its newline is written, so a line being written is never read
half. Lines that are not JSON objects are counted and skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024
ROTATED_QUIET_SECONDS = 10.0
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Position:
    inode: int
    offset: int
    # A digest of the file's first bytes: a file truncated and refilled past the
    # offset while we were down (copytruncate), or a new file that reused the
    # inode, keeps inode and size but not its beginning.
    head: str = ""


def head_of(handle, offset: int) -> str:
    """`length:sha256` of the first bytes (at most HEAD_BYTES, never past `offset`)."""
    length = min(offset, HEAD_BYTES)
    handle.seek(0)
    digest = hashlib.sha256(handle.read(length)).hexdigest()[:32]
    return f"{length}:{digest}"


def same_beginning(path: Path, saved: Position) -> bool:
    if not saved.head:
        return True  # saved before heads were kept
    length = int(saved.head.split(":", 1)[0])
    with open(path, "rb") as handle:
        return head_of(handle, length) == saved.head


@dataclass
class Batch:
    events: list[dict]
    malformed: int
    position: Position


@dataclass
class _Rotated:
    """The file a rotation moved away, still read while Suricata may write to it."""

    inode: int
    offset: int
    quiet_since: float


class EveTail:
    def __init__(self, path: str | Path, position: Position | None = None) -> None:
        self.path = Path(path)
        self.position = position
        self._rotated: _Rotated | None = None

    def read(self, max_bytes: int = READ_CHUNK) -> Iterator[Batch]:
        """Batches of new events; save each batch's position before the next."""
        yield from self._drain_rotated(max_bytes)
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return
        saved = self.position
        if saved and saved.inode != current.st_ino:
            rotated = self._rotated_file(saved.inode)
            if rotated is not None:
                end = yield from self._read_file(rotated, saved, max_bytes, final=True)
                self._rotated = _Rotated(saved.inode, end, time.monotonic())
            saved = None
        if saved and (current.st_size < saved.offset or not same_beginning(self.path, saved)):
            log.warning("suricata.log_truncated", extra={"path": str(self.path)})
            saved = None
        start = saved or Position(current.st_ino, 0)
        yield from self._read_file(self.path, start, max_bytes, final=False)

    def _drain_rotated(self, max_bytes: int) -> Iterator[Batch]:
        """Lines written to the rotated file after we moved on: logrotate's `create`
        makes the new file before Suricata reopens its log on the HUP, and Suricata
        writes to the old one until then. Read until it has been quiet a while.

        The batches carry the live file's position, so a restart resumes there;
        what a restart in that window would still miss is the old file's tail.
        """
        old, live = self._rotated, self.position
        if old is None or live is None or live.inode == old.inode:
            return  # nothing rotated, or the new file is still empty: read() handles it
        path = self._rotated_file(old.inode, expected=False)
        if path is None or os.stat(path).st_size <= old.offset:
            if path is None or time.monotonic() - old.quiet_since > ROTATED_QUIET_SECONDS:
                self._rotated = None
            return
        start = Position(old.inode, old.offset)
        for batch in self._read_file(path, start, max_bytes, final=True):
            old.offset = batch.position.offset
            self.position = live
            yield Batch(batch.events, batch.malformed, live)
        old.quiet_since = time.monotonic()

    def _read_file(self, path: Path, start: Position, max_bytes: int,
                   final: bool) -> Generator[Batch, None, int]:  # fmt: skip
        """Batches from `start` to the last complete line; returns the offset reached."""
        offset = start.offset
        with open(path, "rb") as handle:
            handle.seek(offset)
            while True:
                chunk = handle.read(max_bytes)
                if not chunk:
                    return offset
                complete = chunk.rfind(b"\n") + 1
                if complete == 0:
                    if len(chunk) < max_bytes:
                        return offset  # a line still being written: wait for its newline
                    complete = len(chunk)  # one line longer than a chunk: take it whole
                events, malformed = _parse(chunk[:complete])
                offset += complete
                position = Position(start.inode, offset, head_of(handle, offset))
                handle.seek(offset)
                self.position = position
                yield Batch(events, malformed, position)

    def _rotated_file(self, inode: int, expected: bool = True) -> Path | None:
        for candidate in sorted(self.path.parent.glob(self.path.name + "*")):
            try:
                if candidate != self.path and os.stat(candidate).st_ino == inode:
                    return candidate
            except FileNotFoundError:
                continue
        if expected:
            log.warning("suricata.rotated_file_gone", extra={"path": str(self.path)})
        return None


def _parse(data: bytes) -> tuple[list[dict], int]:
    events, malformed = [], 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            malformed += 1
            continue
        if isinstance(event, dict):
            events.append(event)
        else:
            malformed += 1
    return events, malformed
