"""Run one piece of code on a kernel client and gather what it produced, as robustly as nbclient.

Like nbclient's cell loop, an execution is finished only when both channels say so: iopub reports
`status: idle` for the request (all output is in) and the shell channel brings its `execute_reply`,
whose `status` (ok, error, aborted) and `execution_count` decide the outcome; iopub alone cannot tell
an aborted request (the kernel skipped it, no output) from one that ran and printed nothing.

Outputs are matched by parent message id, capped (text and images) so a runaway print cannot grow the
server's memory, and errors are returned without ANSI colour codes. Timeouts (also a reply that never
comes) and dead kernels are detected here and reported; recovery (interrupt, restart) is the service's job.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MAX_TEXT = 20_000
MAX_IMAGES = 5
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
STDIN_HINT = "Interactive input (input()) is not supported here: put the value in your code instead, e.g. name = 'Ada'."
ABORTED = ("The kernel skipped this code without running it (it was still recovering from an earlier error or "
           "interrupt). Run it again.")  # fmt: skip
NO_REPLY = "The kernel finished but never confirmed the run (no execute_reply)."
IOPUB_GRACE_S = 4.0  # nbclient's iopub_timeout: how long output may trail the reply before we stop waiting

Status = Literal["ok", "error", "timeout", "died"]


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@dataclass
class RunResult:
    status: Status = "ok"
    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    images: list[str] = field(default_factory=list)  # base64 PNG
    error: dict[str, Any] | None = None  # {"ename", "evalue", "traceback"}
    elapsed_s: float = 0.0
    execution_count: int | None = None  # from the execute_reply, like a notebook's In [n]
    notice: str | None = None  # what the learner must know (variables lost, output truncated, ...)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["notice"] is None:
            d.pop("notice")
        return d


class OutputCollector:
    """Accumulates iopub messages for one execution, within the caps."""

    def __init__(self, max_text: int = MAX_TEXT, max_images: int = MAX_IMAGES) -> None:
        self.max_text, self.max_images = max_text, max_images
        self.result = RunResult()
        self.truncated_text = False
        self.dropped_images = 0
        self.missing_output = False  # the reply came, the request's idle did not (IOPUB_GRACE_S)
        self.no_reply = False  # idle came, the reply did not (before the deadline)
        self._clear_pending = False

    def _text_room(self) -> int:
        return self.max_text - len(self.result.stdout) - len(self.result.stderr)

    def _append(self, name: str, text: str) -> None:
        room = self._text_room()
        if room <= 0:
            self.truncated_text = self.truncated_text or bool(text)
            return
        if len(text) > room:
            text, self.truncated_text = text[:room], True
        setattr(self.result, name, getattr(self.result, name) + text)

    def _maybe_clear(self) -> None:
        if self._clear_pending:
            self.result.stdout = self.result.stderr = ""
            self.result.images = []
            self._clear_pending = False

    def handle(self, msg: dict[str, Any]) -> bool:
        """Process one iopub message; True when the execution is finished (status idle)."""
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "status":
            return content.get("execution_state") == "idle"
        if kind == "clear_output":
            self._clear_pending = True
            if not content.get("wait"):
                self._maybe_clear()
            return False
        if kind in ("stream", "display_data", "execute_result", "error"):
            self._maybe_clear()
        if kind == "stream":
            self._append("stderr" if content.get("name") == "stderr" else "stdout", content.get("text", ""))
        elif kind in ("display_data", "execute_result", "update_display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                if len(self.result.images) < self.max_images:
                    self.result.images.append(data["image/png"].replace("\n", ""))
                else:
                    self.dropped_images += 1
            elif kind == "execute_result":
                text = data.get("text/plain", "")
                room = max(self._text_room(), 0)
                self.result.result = text[:room] if len(text) > room else text
                self.truncated_text = self.truncated_text or len(text) > room
            elif "text/plain" in data:
                self._append("stdout", data["text/plain"] + "\n")
        elif kind == "error":
            ename, evalue = content.get("ename", ""), content.get("evalue", "")
            traceback = strip_ansi("\n".join(content.get("traceback", [])))
            if ename == "StdinNotImplementedError":
                evalue = STDIN_HINT
            self.result.status = "error"
            self.result.error = {
                "ename": ename,
                "evalue": strip_ansi(evalue),
                "traceback": traceback[-self.max_text :],
            }
        return False

    def apply_reply(self, content: dict[str, Any]) -> None:
        """The shell reply decides the status; its error fields stand in for a lost iopub `error`."""
        self.result.execution_count = content.get("execution_count")
        status = content.get("status")
        if status == "ok":
            self.result.status = "ok"
        elif status == "aborted":
            self.result.status = "error"
            self.result.error = {"ename": "ExecutionAborted", "evalue": ABORTED, "traceback": ""}
        else:  # "error" (and anything unknown: never report success the kernel did not claim)
            self.result.status = "error"
            if self.result.error is None:
                self.handle({"header": {"msg_type": "error"}, "content": content})

    def notes(self) -> list[str]:
        notes = [NO_REPLY] if self.no_reply else []
        if self.missing_output:
            notes.append("Some output may be missing (the kernel stopped sending it).")
        if self.truncated_text:
            notes.append(f"Output was truncated to {self.max_text:,} characters.")
        if self.dropped_images:
            notes.append(f"Only the first {self.max_images} images are shown ({self.dropped_images} more dropped).")
        return notes


def _is_empty(exc: Exception) -> bool:
    """jupyter_client raises queue.Empty when nothing arrived in time (a gateway may raise TimeoutError)."""
    return type(exc).__name__ in ("Empty", "TimeoutError")


async def _reply(client: Any, msg_id: str, timeout: float) -> dict[str, Any] | None:
    """The `execute_reply` to `msg_id` if one arrives within `timeout`; replies to older requests (an
    interrupted run's) are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = await client.get_shell_msg(timeout=max(0.0, deadline - time.monotonic()))
        except Exception as exc:
            if not _is_empty(exc):
                raise
            return None
        if msg.get("parent_header", {}).get("msg_id") == msg_id and msg["header"]["msg_type"] == "execute_reply":
            return msg


Outcome = Literal["done", "timeout", "died"]


async def run_on_client(
    client: Any,
    code: str,
    timeout: float,
    is_alive: Any,
    poll: float = 0.25,
) -> tuple[RunResult, Outcome]:
    """Execute `code`; returns the gathered result and how it ended. `is_alive` is an async callable.

    Reads iopub until the request's `idle`, then the shell reply (as jupyter_client's execute_interactive
    does; the reply waits in its socket meanwhile). While iopub is quiet the reply is also checked
    without blocking, so output lost after a reply costs IOPUB_GRACE_S, not the whole timeout. No reply
    by the deadline ends as "timeout", like a run that never finishes."""
    collector = OutputCollector()
    started = time.monotonic()
    msg_id = client.execute(code, store_history=True, allow_stdin=False, stop_on_error=True)
    deadline = started + timeout
    outcome: Outcome = "done"
    idle, reply, replied_at = False, None, 0.0
    while not (idle and reply is not None):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if reply is not None:  # the code has finished; only trailing output is missing
                collector.missing_output = True
            else:
                outcome = "timeout"
            break
        if idle:  # all output is in; the reply normally is too (ipykernel sends it before idle)
            reply = await _reply(client, msg_id, min(poll, remaining))
            if reply is None and not await is_alive():
                outcome = "died"
                break
            continue
        try:
            msg = await client.get_iopub_msg(timeout=min(poll, remaining))
        except Exception as exc:
            if not _is_empty(exc):
                raise
            if not await is_alive():
                outcome = "died"
                break
            if reply is None and (reply := await _reply(client, msg_id, 0)) is not None:
                replied_at = time.monotonic()
            if reply is not None and time.monotonic() - replied_at > IOPUB_GRACE_S:
                collector.missing_output = True
                break
            continue
        state = msg["content"].get("execution_state") if msg["header"]["msg_type"] == "status" else None
        if state in ("restarting", "dead"):  # a gateway's auto-restarter announces the death this way
            outcome = "died"
            break
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue  # output of an earlier, interrupted run, or another client's
        idle = collector.handle(msg)
    if reply is not None:
        collector.apply_reply(reply["content"])
    elif outcome == "timeout" and idle:
        collector.no_reply = True
    result = collector.result
    result.elapsed_s = round(time.monotonic() - started, 4)
    notes = collector.notes()
    result.notice = " ".join(notes) or None
    return result, outcome
