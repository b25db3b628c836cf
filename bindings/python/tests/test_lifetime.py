"""However a loop is left (break, an exception, KeyboardInterrupt, an iterator dropped unfinished),
the request stops and its connection and library thread go."""

from __future__ import annotations

import gc
import os
import signal
import threading
from typing import Any, Callable

import pytest
from conftest import open_sockets, settles, threads

import aichat

Req = Callable[..., dict[str, Any]]


@pytest.fixture
def baseline() -> Callable[[], bool]:
    """A check that no socket or thread beyond the starting ones is left (a client of its own is
    closed by each test, so its pooled connections go too)."""
    gc.collect()
    sockets, nthreads = open_sockets(), threads()
    return lambda: open_sockets() <= sockets and threads() <= nthreads


def test_break_stops_the_request(openai: Req, baseline: Callable[[], bool]) -> None:
    with aichat.Client(proxy="") as c:
        for _ in c.stream(openai("chunks=100000")):
            break
        assert c.complete(openai()) == "You said: one two", "the client goes on"
    assert settles(baseline)


def test_an_exception_in_the_body_stops_the_request(openai: Req, baseline: Callable[[], bool]) -> None:
    with aichat.Client(proxy="") as c:
        with pytest.raises(ZeroDivisionError):
            for _ in c.stream(openai("chunks=100000")):
                1 / 0
    assert settles(baseline)


def test_a_dropped_unfinished_iterator_is_freed(openai: Req, baseline: Callable[[], bool]) -> None:
    c = aichat.Client(proxy="")
    for _ in range(10):
        it = c.events(openai("chunks=100000"))
        next(it)
        del it
    never_iterated = c.stream(openai("chunks=100000"))
    del never_iterated
    gc.collect()
    c.close()
    assert settles(baseline)


def test_keyboard_interrupt_stops_a_silent_stream(openai: Req, baseline: Callable[[], bool]) -> None:
    with aichat.Client(proxy="") as c:
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for _ in c.stream(openai("silence")):
                pass
        timer.join()
    assert settles(baseline)


def test_close_waits_for_open_streams(openai: Req) -> None:
    c = aichat.Client(proxy="")
    it = c.stream(openai("chunks=1000"))
    c.close()  # deferred: a stream is open
    assert len(list(it)) == 1000
    with pytest.raises(aichat.InvalidArgumentError):
        c.complete(openai())
