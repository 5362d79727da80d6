"""A scripted OpenAI Chat Completions server, for driving the real `ChatOpenAI` over HTTP.

    with OpenAIServer(["hello there", [{"name": "search_curriculum", "args": {"query": "attention"}}]]) as srv:
        model = ChatOpenAI(base_url=srv.base_url, api_key="test", model="scripted", streaming=True)
        ...
        srv.requests[-1].body["messages"]  # what the client sent

Speaks `POST /v1/chat/completions` (JSON, or SSE `data:` chunks ending in `data: [DONE]` when
`stream` is true, with a usage chunk when `stream_options.include_usage` is set) and
`GET /v1/models`. Errors carry OpenAI's `{"error": {"message", "type", "param", "code"}}` body.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.wire._http import (
    ScriptedServer,
    StreamedResponse,
    fixed_pieces,
    json_response,
    rough_tokens,
    sse,
    text_pieces,
)
from tests.wire.script import Cut, Step, StreamError

# status -> (type, code) as the OpenAI API labels them
ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}

MODELS = ("scripted",)


class OpenAIServer(ScriptedServer):
    """Replays a `Script` as OpenAI Chat Completions; `base_url` is what `ChatOpenAI(base_url=...)` wants."""

    completion_path = "/v1/chat/completions"
    id_prefix = "call_"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def routes(self) -> list[Route]:
        return [*super().routes(), Route("/v1/models", self._models, methods=["GET"])]

    async def _models(self, request: Request) -> Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "llm-tutor-tests"} for m in MODELS]
        return json_response({"object": "list", "data": data})

    # -- errors -----------------------------------------------------------------------------
    def error_response(
        self, status: int, message: str, error_type: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        kind, code = ERROR_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        body = {"error": {"message": message, "type": error_type or kind, "param": None, "code": code}}
        return json_response(body, status, {"x-request-id": self.new_id("req_"), **(headers or {})})

    def validate(self, body: Any) -> str | None:
        if not isinstance(body.get("model"), str):
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "[] is too short - 'messages'"
        pending: list[str] = []  # tool_call ids of the last assistant message still awaiting a result
        answered: set[str] = set()
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("system", "developer", "user", "assistant", "tool"):
                return f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool'."
            if role == "tool":
                call_id = message.get("tool_call_id")
                if call_id not in pending:
                    return (
                        f"Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        f"with 'tool_calls' (messages.[{i}], tool_call_id {call_id!r})."
                    )
                answered.add(call_id)
                continue
            if missing := [c for c in pending if c not in answered]:
                return _unanswered(missing)
            pending, answered = [], set()
            if role == "assistant":
                pending = [c.get("id") for c in message.get("tool_calls") or []]
        if missing := [c for c in pending if c not in answered]:
            return _unanswered(missing)
        return None

    # -- answers ----------------------------------------------------------------------------
    def answer(self, step: Step, body: dict[str, Any]) -> Response | StreamedResponse:
        reply = _Reply(self, step, body)
        if body.get("stream"):
            return reply.stream()
        return reply.json()


def _unanswered(ids: list[str]) -> str:
    return (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(map(str, ids))}"
    )


class _Reply:
    """One step rendered for one request, as a JSON completion or as a chunk stream."""

    def __init__(self, server: OpenAIServer, step: Step, body: dict[str, Any]) -> None:
        self.server = server
        self.step = step
        self.model = body.get("model", MODELS[0])
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.prompt_tokens = rough_tokens(body.get("messages"))
        self.id = server.new_id("chatcmpl-")
        self.created = int(time.time())
        self.text: str = getattr(step, "text", "")
        self.calls = server.calls_of(step)
        self.completion_tokens = rough_tokens(self.text) + sum(rough_tokens(a) for _, _, a in self.calls)

    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "total_tokens": total}

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.calls else "stop"

    def json(self) -> Response | StreamedResponse:
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None, "refusal": None}
        if self.calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in self.calls
            ]
        completion = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_scripted",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}],
            "usage": self.usage(),
        }
        if isinstance(self.step, StreamError):  # without a stream the failure is an error status
            return self.server.error_response(self.step.status, self.step.message)
        if isinstance(self.step, Cut):
            raw = json.dumps(completion).encode()
            return StreamedResponse([raw[: len(raw) // 2]], "application/json", finish=False)
        return json_response(completion, headers={"x-request-id": self.server.new_id("req_")})

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_scripted",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if self.include_usage:
            data["usage"] = None
        return sse(data)

    def stream(self) -> StreamedResponse:
        events = [self.chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [self.chunk({"content": piece}) for piece in text_pieces(self.text)]
        headers = {"x-request-id": self.server.new_id("req_")}
        if isinstance(self.step, Cut):
            return StreamedResponse(events, "text/event-stream; charset=utf-8", headers, finish=False)
        if isinstance(self.step, StreamError):
            kind, code = ERROR_TYPES.get(self.step.status, ("server_error", None))
            events.append(sse({"error": {"message": self.step.message, "type": kind, "param": None, "code": code}}))
            return StreamedResponse(events, "text/event-stream; charset=utf-8", headers)
        for index, (call_id, name, arguments) in enumerate(self.calls):
            start = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            events.append(self.chunk({"tool_calls": [start]}))
            for piece in fixed_pieces(arguments, self.server.arg_piece_size):
                events.append(self.chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        events.append(self.chunk({}, self.finish_reason))
        if self.include_usage:
            events.append(
                sse(
                    {
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": self.created,
                        "model": self.model,
                        "system_fingerprint": "fp_scripted",
                        "choices": [],
                        "usage": self.usage(),
                    }
                )
            )
        events.append(sse("[DONE]"))
        return StreamedResponse(events, "text/event-stream; charset=utf-8", headers)


def tool_results(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """`(tool_call_id, content)` for every tool message in a recorded request body."""
    return [(m.get("tool_call_id"), m.get("content")) for m in body.get("messages", []) if m.get("role") == "tool"]


def system_prompt(body: dict[str, Any]) -> str:
    """The system (or developer) messages' text in a recorded request body, joined."""
    parts = []
    for m in body.get("messages", []):
        if m.get("role") in ("system", "developer"):
            content = m.get("content")
            parts.append(content if isinstance(content, str) else "".join(b.get("text", "") for b in content))
    return "\n".join(parts)
