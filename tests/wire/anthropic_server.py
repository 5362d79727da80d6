"""A scripted Anthropic Messages server, for driving the real `ChatAnthropic` over HTTP.

    with AnthropicServer(["hello there"]) as srv:
        model = ChatAnthropic(base_url=srv.url, api_key="test", model="claude-scripted", max_retries=0)
        ...
        srv.requests[-1].body["system"]  # what the client sent

Speaks `POST /v1/messages`: JSON, or with `stream: true` the SSE events Anthropic sends
(`event: message_start`, `content_block_start` / `content_block_delta` (`text_delta`,
`input_json_delta`) / `content_block_stop`, `message_delta` with `stop_reason` and usage,
`message_stop`, plus a `ping`), and `GET /v1/models`. Errors carry
`{"type": "error", "error": {"type", "message"}, "request_id"}`.
"""

from __future__ import annotations

import json
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

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

MODELS = ("claude-scripted",)
SSE_TYPE = "text/event-stream; charset=utf-8"


def event(data: dict[str, Any]) -> bytes:
    """An Anthropic SSE event: its `event:` name is the payload's `type`."""
    return sse(data, data["type"])


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


class AnthropicServer(ScriptedServer):
    """Replays a `Script` as Anthropic Messages; pass `url` as `ChatAnthropic(base_url=...)`."""

    completion_path = "/v1/messages"
    id_prefix = "toolu_"

    @property
    def base_url(self) -> str:
        return self.url  # the SDK adds /v1 itself

    def routes(self) -> list[Route]:
        return [*super().routes(), Route("/v1/models", self._models, methods=["GET"])]

    async def _models(self, request: Request) -> Response:
        data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in MODELS]
        return json_response({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})

    # -- errors -----------------------------------------------------------------------------
    def error_response(
        self, status: int, message: str, error_type: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        kind = error_type or ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        request_id = self.new_id("req_")
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
        return json_response(body, status, {"request-id": request_id, **(headers or {})})

    def validate(self, body: Any) -> str | None:
        for name, kind in (("model", str), ("max_tokens", int), ("messages", list)):
            if not isinstance(body.get(name), kind):
                return f"{name}: Field required"
        messages = body["messages"]
        if not messages:
            return "messages: at least one message is required"
        previous_tool_uses: list[str] = []
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("user", "assistant"):
                return f"messages.{i}.role: Input should be 'user' or 'assistant'"
            blocks = _blocks(message.get("content"))
            results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
            for j, tool_use_id in enumerate(results):
                if tool_use_id not in previous_tool_uses:
                    return (
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` block in "
                        "the previous message."
                    )
            if missing := [t for t in previous_tool_uses if t not in results]:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(map(str, missing))}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
            previous_tool_uses = (
                [b.get("id") for b in blocks if b.get("type") == "tool_use"] if role == "assistant" else []
            )
        if previous_tool_uses:
            return (
                f"messages.{len(messages)}: `tool_use` ids were found without `tool_result` blocks immediately "
                f"after: {', '.join(map(str, previous_tool_uses))}."
            )
        return None

    # -- answers ----------------------------------------------------------------------------
    def answer(self, step: Step, body: dict[str, Any]) -> Response | StreamedResponse:
        reply = _Reply(self, step, body)
        return reply.stream() if body.get("stream") else reply.json()


class _Reply:
    """One step rendered for one request, as a JSON message or as an event stream."""

    def __init__(self, server: AnthropicServer, step: Step, body: dict[str, Any]) -> None:
        self.server = server
        self.step = step
        self.model = body.get("model", MODELS[0])
        self.id = server.new_id("msg_")
        self.text: str = getattr(step, "text", "")
        self.calls = server.calls_of(step)
        self.input_tokens = rough_tokens([body.get("system"), body.get("messages")])
        self.output_tokens = rough_tokens(self.text) + sum(rough_tokens(a) for _, _, a in self.calls)
        self.headers = {"request-id": server.new_id("req_")}

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.calls else "end_turn"

    def content(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.text or not self.calls:
            blocks.append({"type": "text", "text": self.text})
        for call_id, name, arguments in self.calls:
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": json.loads(arguments)})
        return blocks

    def message(self, content: list[dict[str, Any]], stop_reason: str | None, output_tokens: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }

    def json(self) -> Response | StreamedResponse:
        if isinstance(self.step, StreamError):  # without a stream the failure is an error status
            return self.server.error_response(self.step.status, self.step.message)
        if any(not _is_json(arguments) for _, _, arguments in self.calls):
            # The Messages API only sends parsed `input` outside a stream; say so instead of inventing a shape.
            return self.server.error_response(500, "scripted malformed tool arguments need a streaming request")
        message = self.message(self.content(), self.stop_reason, self.output_tokens)
        if isinstance(self.step, Cut):
            raw = json.dumps(message).encode()
            return StreamedResponse([raw[: len(raw) // 2]], "application/json", self.headers, finish=False)
        return json_response(message, headers=self.headers)

    def stream(self) -> StreamedResponse:
        events = [
            event({"type": "message_start", "message": self.message([], None, 1)}),
        ]
        index = 0
        if self.text or not self.calls:
            block = {"type": "text", "text": ""}
            events.append(event({"type": "content_block_start", "index": 0, "content_block": block}))
            events.append(event({"type": "ping"}))
            for piece in text_pieces(self.text):
                delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
                events.append(event(delta))
            if isinstance(self.step, Cut):
                return StreamedResponse(events, SSE_TYPE, self.headers, finish=False)
            if isinstance(self.step, StreamError):
                kind = ERROR_TYPES.get(self.step.status, "api_error")
                error = {"type": "error", "error": {"type": kind, "message": self.step.message}}
                events.append(event(error))
                return StreamedResponse(events, SSE_TYPE, self.headers)
            events.append(event({"type": "content_block_stop", "index": 0}))
            index = 1
        for call_id, name, arguments in self.calls:
            block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            events.append(event({"type": "content_block_start", "index": index, "content_block": block}))
            for piece in ["", *fixed_pieces(arguments, self.server.arg_piece_size)]:
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
            events.append(event({"type": "content_block_stop", "index": index}))
            index += 1
        final = {
            "type": "message_delta",
            "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
            # cumulative, as the API now sends it; LangChain reads usage from this event only
            "usage": self.message([], None, self.output_tokens)["usage"],
        }
        events.append(event(final))
        events.append(event({"type": "message_stop"}))
        return StreamedResponse(events, SSE_TYPE, self.headers)


def tool_results(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """`(tool_use_id, content)` for every tool_result block in a recorded request body."""
    return [
        (b.get("tool_use_id"), b.get("content"))
        for m in body.get("messages", [])
        for b in _blocks(m.get("content"))
        if b.get("type") == "tool_result"
    ]


def system_prompt(body: dict[str, Any]) -> str:
    """The top-level `system` text of a recorded request body (a str or a list of text blocks)."""
    system = body.get("system") or ""
    return system if isinstance(system, str) else "\n".join(b.get("text", "") for b in system)
