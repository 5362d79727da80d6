"""A script of model turns that the wire servers replay, and the requests they record.

The same script drives the OpenAI and the Anthropic fake, so a test can say *what* the model
does ("answer with text", "call two tools", "fail with 429", "drop the connection") and pick the
protocol separately. Each request to a completion endpoint pops one step; when the script runs
dry the server answers with `Script.default_reply`, so a test never hangs on a missing turn.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Text:
    """A plain assistant reply; streamed word by word."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """One tool call; `raw_arguments` overrides `args` with a literal string (for broken JSON)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None  # the server makes a protocol-style id when None
    raw_arguments: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.raw_arguments if self.raw_arguments is not None else json.dumps(dict(self.args))


@dataclass(frozen=True)
class ToolCalls:
    """One assistant message holding one or several tool calls, optionally after some text."""

    calls: tuple[ToolCall, ...]
    text: str = ""


@dataclass(frozen=True)
class Error:
    """An HTTP error before any body: the provider's error JSON with `status`.

    `retry_after` (seconds) adds `retry-after` (whole seconds, at least 1) and `retry-after-ms`
    (exact), which both SDKs read, the latter first; small values keep retrying tests fast.
    """

    status: int
    message: str = "scripted error"
    retry_after: float | None = None
    error_type: str | None = None  # the protocol's type for `status` when None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut:
    """Start answering (status 200, `text` streamed), then close the connection mid-response."""

    text: str = ""


@dataclass(frozen=True)
class StreamError:
    """Stream `text`, then send the protocol's in-stream error event (as providers do when overloaded)."""

    text: str = ""
    status: int = 529
    message: str = "Overloaded"


Step: TypeAlias = Text | ToolCalls | Error | Cut | StreamError
StepLike: TypeAlias = Step | str | ToolCall | Iterable[Mapping[str, Any] | ToolCall]


def malformed_tool_call(name: str, arguments: str = '{"query": attention}', *, id: str | None = None) -> ToolCalls:
    """A tool call whose arguments are not valid JSON (an unquoted value by default).

    A merely truncated object such as `{"query": "attention` is not enough when streaming:
    LangChain's partial-JSON parser closes the string and brace and accepts it.
    """
    return ToolCalls((ToolCall(name, raw_arguments=arguments, id=id),))


def tool_calls(*calls: Mapping[str, Any] | ToolCall, text: str = "") -> ToolCalls:
    """`tool_calls({"name": "search_curriculum", "args": {"query": "attention"}}, ...)`."""
    return ToolCalls(tuple(_as_call(c) for c in calls), text=text)


def _as_call(call: Mapping[str, Any] | ToolCall) -> ToolCall:
    if isinstance(call, ToolCall):
        return call
    return ToolCall(
        name=call["name"], args=dict(call.get("args", {})), id=call.get("id"), raw_arguments=call.get("raw_arguments")
    )


def as_step(step: StepLike) -> Step:
    """Accept the short forms: a str is a Text, a ToolCall or a list of call dicts is a ToolCalls."""
    if isinstance(step, Text | ToolCalls | Error | Cut | StreamError):
        return step
    if isinstance(step, str):
        return Text(step)
    if isinstance(step, ToolCall):
        return ToolCalls((step,))
    calls = list(step)
    if not calls:
        raise ValueError("a tool-call step needs at least one call")
    return tool_calls(*calls)


@dataclass
class RecordedRequest:
    """One request as the server received it, and the step that answered it (None if rejected)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    step: Step | None = None
    rejected: str | None = None  # the validation message when the server answered 400 itself

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


class Script:
    """Thread-safe queue of steps plus the log of requests (the server runs in another thread)."""

    def __init__(self, steps: Iterable[StepLike] = (), *, default_reply: str = "(end of script)") -> None:
        self.default_reply = default_reply
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque(as_step(s) for s in steps)
        self._requests: list[RecordedRequest] = []

    def add(self, *steps: StepLike) -> Script:
        with self._lock:
            self._steps.extend(as_step(s) for s in steps)
        return self

    def reset(self, steps: Iterable[StepLike] = ()) -> Script:
        """Replace the steps and forget the recorded requests (to reuse one server across tests)."""
        with self._lock:
            self._steps = deque(as_step(s) for s in steps)
            self._requests = []
        return self

    def next_step(self) -> Step:
        with self._lock:
            return self._steps.popleft() if self._steps else Text(self.default_reply)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def remaining(self) -> list[Step]:
        with self._lock:
            return list(self._steps)
