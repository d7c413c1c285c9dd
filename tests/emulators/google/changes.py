"""Drive's changes feeds: one per user and one per shared drive.

Every change gets the next number from one counter; a page token is simply the
number to read from, as in Drive (whose tokens are decimal strings too). A feed
lists each file once, at its latest change, and whether the file is "removed"
is decided when the feed is read: a file the reader can no longer see comes
back as ``removed: true`` without a file, as Drive does after a loss of access.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FIRST_CHANGE = 1000


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    seq: int
    row: int
    time: float


class Feed:
    __slots__ = ("seqs", "rows", "times", "latest")

    def __init__(self) -> None:
        self.seqs = array("q")
        self.rows = array("i")
        self.times = array("d")
        self.latest: dict[int, int] = {}

    def append(self, seq: int, row: int, time: float) -> None:
        self.seqs.append(seq)
        self.rows.append(row)
        self.times.append(time)
        self.latest[row] = seq

    def since(self, seq: int) -> Iterator[ChangeEntry]:
        """Entries from change ``seq`` on, skipping those a later change superseded."""
        for at in range(bisect_left(self.seqs, seq), len(self.seqs)):
            row = self.rows[at]
            if self.latest[row] == self.seqs[at]:
                yield ChangeEntry(self.seqs[at], row, self.times[at])


class ChangeLog:
    def __init__(self) -> None:
        self.last = FIRST_CHANGE - 1
        self.feeds: dict[str, Feed] = {}

    def start_token(self) -> str:
        return str(self.last + 1)

    def record(self, feed_keys: Iterable[str], row: int, time: float) -> None:
        """One change to ``row``, seen in each named feed."""
        self.last += 1
        for key in dict.fromkeys(feed_keys):
            self.feeds.setdefault(key, Feed()).append(self.last, row, time)

    def read(self, feed_keys: Iterable[str], start: int) -> Iterator[ChangeEntry]:
        """Changes of several feeds merged in order, each change once."""
        feeds = [self.feeds[key] for key in dict.fromkeys(feed_keys) if key in self.feeds]
        streams = [feed.since(start) for feed in feeds]
        previous: tuple[int, int] | None = None
        for entry in heapq.merge(*streams, key=lambda e: e.seq):
            latest = max(feed.latest.get(entry.row, -1) for feed in feeds)
            if (entry.seq, entry.row) != previous and entry.seq == latest:
                previous = (entry.seq, entry.row)
                yield entry


def user_feed(user_index: int) -> str:
    return f"user:{user_index}"


def drive_feed(drive_index: int) -> str:
    return f"drive:{drive_index}"
