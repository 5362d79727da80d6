"""The wire fakes against the real LangChain clients: no tutor code, only ChatOpenAI / ChatAnthropic.

Most tests run once per protocol. Passing here means a test that points the tutor at these
servers goes through the same parsing, retry and error paths as it would against the real APIs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.exceptions import ModelConnectionError, ModelRateLimitError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.wire._http import ScriptedServer
from tests.wire.anthropic_server import AnthropicServer
from tests.wire.anthropic_server import system_prompt as anthropic_system_prompt
from tests.wire.anthropic_server import tool_results as anthropic_tool_results
from tests.wire.openai_server import OpenAIServer
from tests.wire.openai_server import system_prompt as openai_system_prompt
from tests.wire.openai_server import tool_results as openai_tool_results
from tests.wire.script import Cut, Error, StreamError, Text, ToolCall, malformed_tool_call, tool_calls

SYSTEM = "You are a patient tutor for the LLM roadmap."
QUESTION = "What does attention do?"


@tool
def search_curriculum(query: str) -> str:
    """Search the course notes."""
    return f"notes about {query}"


@tool
def run_code(code: str) -> str:
    """Run Python code."""
    return "ok"


@dataclass
class Provider:
    """What differs between the two protocols, so one test body covers both."""

    name: str
    server: ScriptedServer
    make: Callable[..., BaseChatModel]
    sdk: Any  # the `openai` or `anthropic` module, for its exception classes
    tool_results: Callable[[dict], list[tuple[str, Any]]]
    system_prompt: Callable[[dict], str]
    stop_text: str  # the finish_reason / stop_reason of a text reply
    stop_tools: str  # ... and of a tool-call reply

    @property
    def finish_key(self) -> str:
        return "finish_reason" if self.name == "openai" else "stop_reason"

    def finish(self, message: Any) -> str | None:
        return message.response_metadata.get(self.finish_key)

    def model(self, *, max_retries: int = 0, streaming: bool = True, **kwargs: Any) -> BaseChatModel:
        return self.make(max_retries=max_retries, streaming=streaming, **kwargs)

    def tool_model(self, **kwargs: Any):
        return self.model(**kwargs).bind_tools([search_curriculum, run_code])


@pytest.fixture(params=["openai", "anthropic"])
def provider(request, openai_server: OpenAIServer, anthropic_server: AnthropicServer) -> Provider:
    if request.param == "openai":
        return Provider(
            "openai",
            openai_server,
            lambda **kw: ChatOpenAI(base_url=openai_server.base_url, api_key="test", model="scripted", **kw),
            openai,
            openai_tool_results,
            openai_system_prompt,
            "stop",
            "tool_calls",
        )
    return Provider(
        "anthropic",
        anthropic_server,
        lambda **kw: ChatAnthropic(base_url=anthropic_server.url, api_key="test", model="claude-scripted", **kw),
        anthropic,
        anthropic_tool_results,
        anthropic_system_prompt,
        "end_turn",
        "tool_use",
    )


def prompt() -> list[BaseMessage]:
    return [SystemMessage(SYSTEM), HumanMessage(QUESTION)]


def merge(chunks: Iterable[AIMessageChunk]) -> AIMessageChunk:
    chunks = list(chunks)
    assert chunks, "the stream yielded nothing"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


def result_text(content: Any) -> str:
    """A tool result's content as text (OpenAI sends a str; Anthropic a str or text blocks)."""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from."""
    seen = [exc]
    while (nxt := seen[-1].__cause__ or seen[-1].__context__) is not None and nxt not in seen:
        seen.append(nxt)
    return seen


# -- text --------------------------------------------------------------------------------------


def test_streamed_text_arrives_in_pieces_and_the_request_carries_the_system_prompt(provider: Provider):
    """A text step reaches the client as several deltas, and the recorded body shows the prompt sent."""
    provider.server.load("Attention lets every token look at every other token.")

    chunks = list(provider.model().stream(prompt()))

    pieces = [c.text for c in chunks if c.text]
    assert len(pieces) > 3
    assert "".join(pieces) == "Attention lets every token look at every other token."
    [request] = provider.server.requests
    assert request.stream is True
    assert provider.system_prompt(request.body) == SYSTEM
    assert QUESTION in json.dumps(request.body["messages"])
    assert provider.finish(merge(chunks)) == provider.stop_text


def test_non_streaming_request_gets_a_json_reply(provider: Provider):
    """`streaming=False` sends no `stream` flag and the server answers with one JSON completion."""
    provider.server.load("A plain JSON answer.", tool_calls({"name": "search_curriculum", "args": {"query": "rope"}}))
    model = provider.model(streaming=False)

    assert model.invoke(prompt()).text == "A plain JSON answer."
    reply = provider.tool_model(streaming=False).invoke(prompt())

    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("search_curriculum", {"query": "rope"})]
    assert [r.stream for r in provider.server.requests] == [False, False]


def test_usage_is_reported(provider: Provider):
    """Token usage reaches `usage_metadata` (OpenAI: the include_usage chunk; Anthropic: message_start/delta)."""
    provider.server.load("Counting tokens here.")
    model = provider.model(stream_usage=True)

    usage = merge(model.stream(prompt())).usage_metadata

    assert usage is not None
    assert usage["output_tokens"] > 0
    assert usage["input_tokens"] > 0
    if provider.name == "openai":
        assert provider.server.requests[0].body["stream_options"] == {"include_usage": True}


def test_exhausted_script_answers_with_the_default_reply(provider: Provider):
    """A request past the end of the script still gets a short text, so a test fails on asserts, not hangs."""
    provider.server.load("only step")
    model = provider.model()

    assert model.invoke(prompt()).text == "only step"
    assert model.invoke(prompt()).text == "(end of script)"
    assert provider.server.script.remaining == []


# -- tool calls --------------------------------------------------------------------------------


def test_streamed_tool_call_arguments_arrive_in_pieces_and_parse(provider: Provider):
    """The arguments JSON is split over several deltas; the client reassembles name, id and args."""
    provider.server.load(ToolCall("search_curriculum", {"query": "multi-head attention"}, id="t_1"))

    chunks = list(provider.tool_model().stream(prompt()))

    arg_pieces = [tc["args"] for c in chunks for tc in c.tool_call_chunks if tc.get("args")]
    assert len(arg_pieces) >= 3
    assert all(piece != json.dumps({"query": "multi-head attention"}) for piece in arg_pieces)
    message = merge(chunks)
    [call] = message.tool_calls
    assert (call["name"], call["args"], call["id"]) == ("search_curriculum", {"query": "multi-head attention"}, "t_1")
    assert message.invalid_tool_calls == []
    assert provider.finish(message) == provider.stop_tools
    sent_tools = json.dumps(provider.server.requests[0].body["tools"])
    assert "search_curriculum" in sent_tools and "run_code" in sent_tools


def test_two_tool_calls_in_one_message(provider: Provider):
    """Several calls in one assistant turn come back as separate tool_calls, in order, with distinct ids."""
    provider.server.load(
        [
            {"name": "search_curriculum", "args": {"query": "attention"}},
            {"name": "run_code", "args": {"code": "print(2 + 2)"}},
        ]
    )

    message = provider.tool_model().invoke(prompt())

    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("search_curriculum", {"query": "attention"}),
        ("run_code", {"code": "print(2 + 2)"}),
    ]
    ids = [c["id"] for c in message.tool_calls]
    assert len(set(ids)) == 2
    assert all(i.startswith("call_" if provider.name == "openai" else "toolu_") for i in ids)


def test_tool_result_goes_back_with_the_matching_id(provider: Provider):
    """A ToolMessage answering the call is sent in the next request under the call's id, with the prompt."""
    provider.server.load(
        tool_calls({"name": "search_curriculum", "args": {"query": "attention"}}, text="Let me look that up."),
        "Attention mixes information across tokens.",
    )
    model = provider.tool_model()
    messages = prompt()

    first = model.invoke(messages)
    [call] = first.tool_calls
    result = ToolMessage("Notes: attention weighs values by query-key similarity.", tool_call_id=call["id"])
    second = model.invoke([*messages, first, result])

    assert second.text == "Attention mixes information across tokens."
    body = provider.server.requests[1].body
    [(sent_id, sent_content)] = provider.tool_results(body)
    assert sent_id == call["id"]
    assert result_text(sent_content) == "Notes: attention weighs values by query-key similarity."
    assert provider.system_prompt(body) == SYSTEM
    assert all(r.rejected is None for r in provider.server.requests)


def test_strict_server_rejects_a_tool_result_for_an_unknown_id(provider: Provider):
    """Like the real API, a tool result whose id no earlier call has is a 400; the step is not consumed."""
    provider.server.load(ToolCall("search_curriculum", {"query": "attention"}), "unused")
    model = provider.tool_model()
    first = model.invoke(prompt())

    with pytest.raises(provider.sdk.BadRequestError) as info:
        model.invoke([*prompt(), first, ToolMessage("notes", tool_call_id="call_nobody_made")])

    assert info.value.status_code == 400
    assert "call_nobody_made" in provider.server.requests[-1].rejected
    assert provider.server.script.remaining == [Text("unused")]


def test_malformed_tool_arguments_become_invalid_tool_calls(provider: Provider):
    """Arguments that are not JSON land in `invalid_tool_calls` with the raw text, not in `tool_calls`."""
    provider.server.load(malformed_tool_call("search_curriculum", '{"query": attention}', id="call_bad"))

    message = provider.tool_model().invoke(prompt())

    assert message.tool_calls == []
    [bad] = message.invalid_tool_calls
    assert (bad["name"], bad["id"], bad["args"]) == ("search_curriculum", "call_bad", '{"query": attention}')


def test_anthropic_malformed_arguments_need_a_stream(anthropic_server: AnthropicServer):
    """Outside a stream the Messages API only sends parsed `input`, so the fake refuses with a clear 500."""
    anthropic_server.load(malformed_tool_call("search_curriculum"))
    model = ChatAnthropic(base_url=anthropic_server.url, api_key="test", model="claude-scripted", max_retries=0)

    with pytest.raises(anthropic.InternalServerError, match="need a streaming request"):
        model.bind_tools([search_curriculum]).invoke(prompt())


# -- errors ------------------------------------------------------------------------------------


def test_rate_limit_then_success_when_the_client_retries(provider: Provider):
    """429 with retry-after, then a reply: a client with max_retries retries by itself (after ~10 ms)."""
    provider.server.load(Error(429, "Rate limit reached", retry_after=0.01), "Worth the wait.")

    started = time.monotonic()
    reply = provider.model(max_retries=2).invoke(prompt())

    assert reply.text == "Worth the wait."
    assert time.monotonic() - started < 2
    assert len(provider.server.requests) == 2
    assert provider.server.requests[0].body == provider.server.requests[1].body


def test_rate_limit_without_retries_raises_the_rate_limit_error(provider: Provider):
    """With max_retries=0 the 429 surfaces as the SDK's RateLimitError (also LangChain's ModelRateLimitError)."""
    provider.server.load(Error(429, "Rate limit reached", retry_after=3))

    with pytest.raises(provider.sdk.RateLimitError) as info:
        provider.model().invoke(prompt())

    assert isinstance(info.value, ModelRateLimitError)
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "3"
    assert "Rate limit reached" in str(info.value)
    error = info.value.body if provider.name == "openai" else info.value.body["error"]
    assert error["type"] == ("requests" if provider.name == "openai" else "rate_limit_error")


def test_server_error_raises_the_internal_server_error(provider: Provider):
    """A 500 with the provider's error body raises the SDK's InternalServerError when retries are off."""
    provider.server.load(Error(500, "The server had an error"))

    with pytest.raises(provider.sdk.InternalServerError) as info:
        provider.model().invoke(prompt())

    assert info.value.status_code == 500
    assert len(provider.server.requests) == 1


def test_server_error_is_retried_like_any_5xx(provider: Provider):
    """Both SDKs retry a 5xx as well: a 500 then a reply succeeds with max_retries=1."""
    provider.server.load(Error(500, "The server had an error", retry_after=0.01), "Recovered.")

    assert provider.model(max_retries=1).invoke(prompt()).text == "Recovered."


def test_anthropic_overloaded_raises_overloaded_error(anthropic_server: AnthropicServer):
    """Anthropic's 529 overloaded_error maps to `anthropic.OverloadedError`."""
    anthropic_server.load(Error(529, "Overloaded"))
    model = ChatAnthropic(base_url=anthropic_server.url, api_key="test", model="claude-scripted", max_retries=0)

    with pytest.raises(anthropic.OverloadedError) as info:
        model.invoke(prompt())

    assert info.value.status_code == 529
    assert info.value.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_cut_stream_raises_after_the_text_before_the_cut(provider: Provider):
    """The connection drops mid-stream: the deltas sent so far arrive, then the client raises."""
    provider.server.load(Cut("Attention is a way to"))
    received: list[str] = []

    # the type differs per SDK (checked below), so catch broadly and inspect the cause chain
    with pytest.raises(Exception) as info:
        for chunk in provider.model().stream(prompt()):
            received.append(chunk.text)

    assert "".join(received) == "Attention is a way to"
    assert any(type(e).__name__ == "RemoteProtocolError" for e in chain(info.value)), chain(info.value)
    if provider.name == "openai":  # the OpenAI SDK wraps it; the Anthropic SDK lets the transport error through
        assert isinstance(info.value, ModelConnectionError)


def test_cut_json_reply_raises_a_connection_error(provider: Provider):
    """A non-streaming reply cut halfway is a connection error (the SDKs would retry it if allowed)."""
    provider.server.load(Cut("never seen"))

    with pytest.raises(provider.sdk.APIConnectionError):
        provider.model(streaming=False).invoke(prompt())


def test_error_event_inside_a_stream_raises(provider: Provider):
    """An in-stream error event (OpenAI `data: {"error"...}`, Anthropic `event: error`) raises the SDK's APIError."""
    provider.server.load(StreamError("Partial answer", status=529, message="Overloaded"))

    with pytest.raises(provider.sdk.APIError) as info:
        list(provider.model().stream(prompt()))

    assert "Overloaded" in str(info.value)


# -- the servers themselves ------------------------------------------------------------------


@pytest.mark.parametrize("server_class", [OpenAIServer, AnthropicServer])
def test_server_lists_models_and_stops(server_class: type[ScriptedServer]):
    """GET /v1/models answers (the tutor probes it), and leaving the context manager frees the port."""
    with server_class(["hi"]) as server:
        listing = httpx.get(server.url + "/v1/models", timeout=5).json()
        url = server.url
    assert listing["data"][0]["id"] in ("scripted", "claude-scripted")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/models", timeout=1)


def test_provider_error_bodies_match_the_documented_shapes(openai_server: OpenAIServer, anthropic_server):
    """The raw JSON: OpenAI {"error": {message, type, param, code}}, Anthropic {"type": "error", "error": {...}}."""
    openai_server.load(Error(429, "slow down", retry_after=0.01))
    anthropic_server.load(Error(529, "busy"))
    body = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}

    o = httpx.post(openai_server.base_url + "/chat/completions", json=body, timeout=5)
    a = httpx.post(anthropic_server.url + "/v1/messages", json=body, timeout=5)

    assert o.status_code == 429 and o.headers["retry-after"] == "1" and o.headers["retry-after-ms"] == "10"
    assert o.json() == {
        "error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    }
    assert a.status_code == 529
    assert a.json()["type"] == "error"
    assert a.json()["error"] == {"type": "overloaded_error", "message": "busy"}


def test_anthropic_stream_events_are_named(anthropic_server: AnthropicServer):
    """Each Anthropic SSE event has an `event:` line naming its type, in the documented order."""
    anthropic_server.load(tool_calls({"name": "search_curriculum", "args": {"query": "kv cache"}}, text="Checking."))
    body = {"model": "m", "max_tokens": 8, "stream": True, "messages": [{"role": "user", "content": "hi"}]}

    raw = httpx.post(anthropic_server.url + "/v1/messages", json=body, timeout=5).text

    names = [line.removeprefix("event: ") for line in raw.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    assert '"stop_reason":"tool_use"' in raw and '"type":"input_json_delta"' in raw


def test_openai_stream_ends_with_done(openai_server: OpenAIServer):
    """OpenAI chunks are bare `data:` lines; the stream ends with `data: [DONE]` after the finish_reason."""
    openai_server.load("short")
    body = {"model": "scripted", "stream": True, "messages": [{"role": "user", "content": "hi"}]}

    raw = httpx.post(openai_server.base_url + "/chat/completions", json=body, timeout=5).text

    lines = [line for line in raw.splitlines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[-2].removeprefix("data: "))["choices"][0]["finish_reason"] == "stop"
