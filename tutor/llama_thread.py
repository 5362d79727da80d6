"""One OS thread for every call into the embedded llama.cpp model.

llama.cpp's CPU backend runs on OpenMP, and OpenMP builds a thread team per calling thread. LangGraph
runs each node on a fresh pool thread and the web server answers from many threads, so every turn used
to pay for a new team and competed with the idle ones: measured on 2 cores, time to first token was
65 ms from one thread and 75 ms from a new thread per call (40 calls each, same prompts). Running all
generation on this one thread also serialises it, which a `llama_cpp.Llama` needs (it is not
thread-safe).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

NAME = "llama"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=NAME)
_DONE = object()
T = TypeVar("T")


_pending = 0  # calls submitted to the llama thread and not finished: running or waiting their turn
_pending_lock = threading.Lock()


def _track(function: Callable[..., T]) -> Callable[..., T]:
    def tracked(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        finally:
            global _pending
            with _pending_lock:
                _pending -= 1

    return tracked


def _submit(function: Callable[..., Any], *args: Any) -> Any:
    global _pending
    with _pending_lock:
        _pending += 1
    return _EXECUTOR.submit(_track(function), *args)


def busy() -> int:
    """How many calls are running on the llama thread or waiting for it (a learner who asks now waits for them)."""
    return _pending


def on_llama_thread() -> bool:
    return threading.current_thread().name.startswith(NAME + "_")


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` on the llama thread (inline when already there), waiting for it."""
    if on_llama_thread():
        return function(*args, **kwargs)
    context = contextvars.copy_context()
    return _submit(lambda: context.run(function, *args, **kwargs)).result()


def stream(produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Iterate `produce()` on the llama thread and hand its items to the caller as they come.

    When the caller stops (closes the iterator or raises while handling an item), the producer stops
    before its next item and the caller waits for that (one token at most): when this returns, nothing
    runs in the model, so whoever uses it next cannot overlap a dying generation."""
    if on_llama_thread():
        yield from produce()
        return
    items: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in produce():
                if stop.is_set():
                    break
                items.put(item)
        except BaseException as exc:  # handed to the caller, raised there
            items.put(exc)
        finally:
            items.put(_DONE)

    context = contextvars.copy_context()
    running = _submit(context.run, run)
    try:
        while (item := items.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        running.result()
