"""The conversation history that fits the model in use, measured in that model's tokens.

Trimming by message count failed once long answers piled up (a 4,829-token prompt for a 4,096 context).
The embedded model counts with its own llama.cpp tokenizer; API models with LangChain's approximate
counter. The budget leaves room for the system prompt and the reply, so a turn never fails on length.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately

if TYPE_CHECKING:
    from tutor.agent.context import Context

API_CONTEXT = 32_000  # history budget for API models: well inside every supported model's window
MARGIN = 64  # chat-template tokens around each message


def token_counter(ctx: Context):
    """Count tokens with the model's own tokenizer where there is one."""
    client = getattr(ctx.model, "client", None)
    tokenize = getattr(client, "tokenize", None)
    if ctx.embedded and callable(tokenize):

        def count(messages: list[BaseMessage]) -> int:
            return sum(_token_length(tokenize, m.text) + 8 for m in messages)

        return count
    return count_tokens_approximately


@lru_cache(maxsize=2048)
def _token_length(tokenize, text: str) -> int:
    """Token counts per text, remembered: the system prompt and the history are the same turn after turn,
    and tokenizing them again cost about a millisecond before every reply."""
    return len(tokenize(text.encode("utf-8", "replace"), add_bos=False))


def history_budget(ctx: Context, system: SystemMessage, counter) -> int:
    window = ctx.settings.embedded_n_ctx if ctx.embedded else API_CONTEXT
    return max(256, window - ctx.settings.max_tokens - counter([system]) - MARGIN)


def fit_history(messages: list[BaseMessage], system: SystemMessage, ctx: Context) -> list[BaseMessage]:
    """The newest messages that fit (starting on a learner message); a single oversized learner message
    is cut rather than dropped, so the learner always gets an answer."""
    counter = token_counter(ctx)
    budget = history_budget(ctx, system, counter)
    recent = trim_messages(  # at most TUTOR_HISTORY_MESSAGES messages, then at most the token budget
        messages, strategy="last", token_counter=len, max_tokens=ctx.settings.history_messages, start_on="human"
    )
    kept = trim_messages(
        recent or messages[-1:], strategy="last", token_counter=counter, max_tokens=budget, start_on="human"
    )
    if kept:
        return kept
    last = messages[-1:] if messages else []
    if not last:
        return []
    text = last[0].text
    while text and counter([last[0].model_copy(update={"content": text})]) > budget:
        text = text[: int(len(text) * 0.7)]
    return [last[0].model_copy(update={"content": text})]


NOT_RUN = "This tool call was not run (the turn ended before it could be)."


def missing_results(messages: list[BaseMessage]) -> list[ToolMessage]:
    """Tool results owed to tool calls that never got one (a turn cut by the recursion limit, a crash):
    OpenAI and Anthropic reject a history with an unanswered tool call."""
    owed: dict[str, str] = {}
    for m in messages:
        if isinstance(m, AIMessage):
            owed.update({c["id"]: c["name"] for c in [*m.tool_calls, *m.invalid_tool_calls] if c.get("id")})
        elif isinstance(m, ToolMessage):
            owed.pop(m.tool_call_id, None)
    return [ToolMessage(NOT_RUN, tool_call_id=i, name=name, status="error") for i, name in owed.items()]


def answered(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The history with every tool call followed by its result (a placeholder where none was recorded)."""
    missing = {m.tool_call_id: m for m in missing_results(messages)}
    if not missing:
        return messages
    out: list[BaseMessage] = []
    for m in messages:
        out.append(m)
        if isinstance(m, AIMessage):
            calls = [*m.tool_calls, *m.invalid_tool_calls]
            out += [missing.pop(c["id"]) for c in calls if c.get("id") in missing]
    return out


def invalid_call_results(message: AIMessage) -> list[ToolMessage]:
    """Error results for tool calls whose arguments did not parse, so the model can try again (and the
    provider, which counts them as calls, sees each one answered)."""
    out = []
    for c in message.invalid_tool_calls:
        if not c.get("id"):
            continue
        name = c.get("name") or "unknown"
        text = (f"Error: the arguments of {name} were not valid JSON ({c.get('error') or 'parse error'}); "
                "call it again with valid arguments.")  # fmt: skip
        out.append(ToolMessage(text, tool_call_id=c["id"], name=name, status="error"))
    return out
