"""Fixtures for the store: an in-memory one for speed, a file one for threads."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from state import Store

ThreadRunner = Callable[[int, Callable[[int], None]], None]


@pytest.fixture
def memory_store() -> Iterator[Store]:
    store = Store(":memory:")
    yield store
    store.close()


@pytest.fixture
def file_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "warden.db")
    yield store
    store.close()


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same test against both kinds of store."""
    opened = Store(":memory:" if request.param == "memory" else tmp_path / "warden.db")
    yield opened
    opened.close()


@pytest.fixture
def db(memory_store: Store) -> Database:
    return memory_store.db


@pytest.fixture
def in_threads() -> ThreadRunner:
    """Run `work(index)` on `count` threads released together; re-raise their errors."""

    def run(count: int, work: Callable[[int], None]) -> None:
        start = threading.Barrier(count)
        errors: list[BaseException] = []

        def body(index: int) -> None:
            start.wait()
            try:
                work(index)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    return run
