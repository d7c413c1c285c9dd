import threading
import time

from bot.process import wait_in_slices


def test_wait_returns_soon_after_stop_is_set_from_another_thread():
    """The main thread notices a stop within one slice."""
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()

    started = time.monotonic()
    wait_in_slices(stop)

    assert time.monotonic() - started < 1.0


def test_wait_with_a_limit_returns_at_the_limit():
    """A bounded wait (a retry's back-off) ends on time when nobody stops it."""
    started = time.monotonic()

    wait_in_slices(threading.Event(), 0.3)

    assert 0.25 < time.monotonic() - started < 1.0
