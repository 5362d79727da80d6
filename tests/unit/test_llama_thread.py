"""The embedded model's single thread: every call lands on it, and a stopped stream stops the producer."""

from __future__ import annotations

import threading
import time

import pytest

from tutor import llama_thread


def test_calls_from_many_threads_all_run_on_the_one_llama_thread():
    seen: set[int] = set()

    def where() -> int:
        return threading.get_ident()

    callers = [threading.Thread(target=lambda: seen.add(llama_thread.call(where))) for _ in range(5)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_a_stream_yields_in_order_and_re_raises_the_producers_error():
    def produce():
        yield from (1, 2, 3)
        raise ValueError("model failed")

    got = []
    with pytest.raises(ValueError, match="model failed"):
        for item in llama_thread.stream(produce):
            got.append(item)
    assert got == [1, 2, 3]


def test_closing_a_stream_stops_the_producer_before_it_returns():
    produced = []

    def produce():
        for i in range(1000):
            time.sleep(0.002)
            produced.append(i)
            yield i

    chunks = llama_thread.stream(produce)
    assert next(chunks) == 0
    chunks.close()  # returns only once the producer has stopped
    stopped_at = len(produced)
    time.sleep(0.05)
    assert len(produced) == stopped_at <= 3


def test_nested_calls_on_the_llama_thread_run_inline_instead_of_deadlocking():
    def outer() -> list[int]:
        return list(llama_thread.stream(lambda: iter([llama_thread.call(lambda: 7)])))

    assert llama_thread.call(outer) == [7]


def test_busy_counts_the_calls_running_or_waiting_and_drops_to_zero():
    import threading
    import time

    from tutor import llama_thread

    release = threading.Event()
    started = threading.Event()

    def hold() -> str:
        started.set()
        release.wait(5)
        return "done"

    waiter = threading.Thread(target=lambda: llama_thread.call(hold))
    waiter.start()
    started.wait(5)
    queued = threading.Thread(target=lambda: llama_thread.call(lambda: "next"))
    queued.start()
    deadline = time.time() + 5
    while llama_thread.busy() < 2 and time.time() < deadline:
        time.sleep(0.01)
    assert llama_thread.busy() == 2  # one running, one waiting its turn
    release.set()
    waiter.join(5)
    queued.join(5)
    assert llama_thread.busy() == 0
