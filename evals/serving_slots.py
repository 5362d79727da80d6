"""In-process llama.cpp or a llama.cpp server for the embedded model, under 10 learners at once?

Issue 14 asks to pick by numbers. Ten learners send a small-talk message at the same moment (the only
learner-visible text the embedded model writes); each gets the tutor's system prompt and its own message,
streamed, 24 new tokens at most, greedy (the same tokens on both sides). Measured, in the same run:
  in_process   one `llama_cpp.Llama` in this process, one generation at a time (what the tutor does:
               tutor/llama_thread.py serialises every call on one thread)
  server       `python -m llama_cpp.server` on loopback with the same GGUF, reached over HTTP with
               streaming (what `openai-compatible/...@http://127.0.0.1:PORT/v1` would use)
llama-cpp-python's server has no parallel slots (no n_parallel setting: one request at a time behind its
own lock), so it can only add the HTTP hop; the figure says by how much. By default it also cuts off the
stream in progress whenever a new request arrives (`interrupt_requests`: with 10 learners at once every
stream but the last ended without a token), so it runs here with that off. Target: the server is chosen only
if its p95 time to first token is below in-process; it cannot be, so the row fails if it somehow is.

    python -m evals.serving_slots
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

LEARNERS = 10
MESSAGES = [f"hi! I'm learner {i}, how are you today?" for i in range(LEARNERS)]
# greedy: both sides write the same tokens for the same message, so queueing compares like with like
SAMPLING = {"max_tokens": 24, "temperature": 0.0}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _messages(text: str) -> list[dict]:
    from tutor.prompts import EMBEDDED_SYSTEM

    return [{"role": "system", "content": EMBEDDED_SYSTEM}, {"role": "user", "content": text}]


def in_process() -> list[float]:
    from llama_cpp import Llama

    from tutor import llama_thread
    from tutor.models import embedded_gguf_path, weight_repacking

    def load() -> Llama:
        with weight_repacking(False):
            return Llama(str(embedded_gguf_path()), n_ctx=4096, verbose=False)

    llm = llama_thread.call(load)  # built, warmed and run on the tutor's one llama thread, as in serving
    llama_thread.call(llm.create_chat_completion, _messages("hello"), max_tokens=4)
    ready = threading.Barrier(LEARNERS)

    def one(i: int) -> float:
        ready.wait()
        start = time.perf_counter()
        produce = lambda: llm.create_chat_completion(_messages(MESSAGES[i]), stream=True, **SAMPLING)  # noqa: E731
        first = None
        for _chunk in llama_thread.stream(produce):
            first = first or time.perf_counter() - start
        return first * 1000

    with ThreadPoolExecutor(LEARNERS) as pool:
        return list(pool.map(one, range(LEARNERS)))


def server() -> list[float]:
    import httpx

    from evals.bench import _free_port, _wait_http
    from tutor.models import embedded_server_command

    port = _free_port()
    proc = subprocess.Popen(embedded_server_command(port, "--interrupt_requests", "False"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        if not _wait_http(url + "/models", 90):
            raise RuntimeError("llama_cpp.server did not start within 90 s")
        body = {"model": "smol", "stream": True, **SAMPLING}
        httpx.post(url + "/chat/completions", json={**body, "messages": _messages("hello"), "stream": False},
                   timeout=60)  # fmt: skip
        ready = threading.Barrier(LEARNERS)

        def one(i: int) -> float:
            ready.wait()
            start = time.perf_counter()
            with httpx.stream("POST", url + "/chat/completions", json={**body, "messages": _messages(MESSAGES[i])},
                              timeout=120) as response:  # fmt: skip
                first = None
                for line in response.iter_lines():  # read to the end: a closed stream cancels its generation
                    if first is None and line.startswith("data: ") and '"content"' in line:
                        first = time.perf_counter() - start
            if first is None:
                raise RuntimeError("no token")
            return first * 1000

        with ThreadPoolExecutor(LEARNERS) as pool:
            return list(pool.map(one, range(LEARNERS)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run() -> dict:
    inproc, served = in_process(), server()
    rows = {
        name: {"ttft_p50_ms": round(statistics.median(v), 1), "ttft_p95_ms": round(_p(v, 0.95), 1)}
        for name, v in (("in_process", inproc), ("server", served))
    }
    choice = "server" if rows["server"]["ttft_p95_ms"] < rows["in_process"]["ttft_p95_ms"] else "in_process"
    return {"suite": "serving_slots", "learners": LEARNERS, **rows, "chosen": choice,
            "passed": choice == "in_process", "target": "keep in-process unless the server's p95 is lower"}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
