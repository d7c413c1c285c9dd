from datetime import timedelta

import pytest
from sqlite_utils import Database

from state import Store, deliveries
from state.clock import utcnow
from tests.state.conftest import ThreadRunner


def test_first_time_is_true_once(db: Database) -> None:
    """The first sight of a key is True, every later one False."""
    first = deliveries.first_time(db, "Ev01")

    again = deliveries.first_time(db, "Ev01")

    assert first is True
    assert again is False


def test_first_time_from_two_threads_is_true_once(
    file_store: Store, in_threads: ThreadRunner
) -> None:
    """Two threads racing on the same 200 keys get exactly one True per key."""
    keys = [f"Ev{n:03}" for n in range(200)]
    wins: list[list[str]] = [[], []]

    def race(index: int) -> None:
        for key in keys:
            if deliveries.first_time(file_store.db, key):
                wins[index].append(key)

    in_threads(2, race)

    assert sorted(wins[0] + wins[1]) == keys


def test_rolled_back_key_is_forgotten(memory_store: Store) -> None:
    """If handling the event fails, the key is not kept and a redelivery is processed."""
    with pytest.raises(RuntimeError), memory_store.transaction() as db:
        deliveries.first_time(db, "Ev01")
        raise RuntimeError("handler failed")

    assert deliveries.first_time(memory_store.db, "Ev01") is True


def test_forget_older_than_drops_old_keys(db: Database) -> None:
    """Housekeeping drops keys seen before the cutoff, keeping newer ones."""
    deliveries.first_time(db, "Ev01")

    kept = deliveries.forget_older_than(db, utcnow() - timedelta(hours=1))
    dropped = deliveries.forget_older_than(db, utcnow() + timedelta(seconds=1))

    assert (kept, dropped) == (0, 1)
    assert deliveries.first_time(db, "Ev01") is True
