"""One process's tutor: settings, model, stores and the compiled graph, plus a streaming turn API.

The CLI (`chat`, `ask`) and the web UI share this, so a turn behaves the same everywhere.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langgraph.types import Command

from tools.kernel.service import KernelService
from tutor.agent.context import Context
from tutor.agent.graph import build_graph
from tutor.agent.history import missing_results
from tutor.config import Settings
from tutor.identity import Identity, load_key
from tutor.learner.store import LearnerStore, is_postgres_url
from tutor.limits import RateLimiter
from tutor.models import ProviderError, build_chat_model, parse_model_spec

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

EventKind = Literal["token", "message", "tool_call", "tool_result", "error", "interrupt", "status"]


@dataclass
class TurnEvent:
    """One thing a turn produced, in the order it happened."""

    kind: EventKind
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class TurnCancelled(Exception):
    """Raised inside the model's token loop when the consumer of a turn went away (or pressed stop)."""


class _HideCancellation(logging.Filter):
    """LangChain logs every exception raised by a callback; a deliberate stop is not worth a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "TurnCancelled" not in record.getMessage()


logging.getLogger("langchain_core.callbacks.manager").addFilter(_HideCancellation())


class CancelOnDemand(BaseCallbackHandler):
    """Stops generation at the next token once `cancel()` is called: without it, an abandoned turn keeps
    the (single, locked) embedded model busy and delays the next learner's first token."""

    raise_error = True

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if self.cancelled:
            raise TurnCancelled()


def make_checkpointer(settings: Settings):
    """SqliteSaver in the data dir, or PostgresSaver when TUTOR_DATABASE_URL is a postgres URL."""
    if is_postgres_url(settings.database_url):
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        url = settings.database_url.replace("postgresql+psycopg", "postgresql")
        pool = ConnectionPool(
            url, kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}, max_size=8, open=True
        )
        saver = PostgresSaver(pool)
        saver.setup()
        return saver, pool.close
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(str(settings.checkpoint_db), check_same_thread=False)
    # WAL + NORMAL: commits survive a crash of the app without an fsync per graph step
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(conn), conn.close


log = logging.getLogger(__name__)


def queued_note(ahead: int) -> str:
    """What a learner sees while the embedded model finishes other learners' replies."""
    others = "another learner" if ahead == 1 else f"{ahead} other learners"
    return f"⏳ The tutor's model is writing for {others}; your reply starts right after."


def provider_failure(exc: Exception) -> str | None:
    """One line for a failing model provider (rate limit, server error, timeout, connection cut)."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    detail = " ".join(str(exc).split())[:160]
    detail = f" ({detail})" if detail else ""
    if status == 429 or "RateLimit" in name:
        return f"The model provider is rate-limiting us right now (429){detail}. Wait a little and send it again."
    if isinstance(status, int) and status >= 500:
        return f"The model provider had a server error ({status}){detail}. Send your message again in a moment."
    if "Timeout" in name:
        return f"The model provider did not answer in time{detail}. Send your message again."
    if any(w in name for w in ("Connection", "RemoteProtocol", "ReadError", "APIError", "APIStatus", "Incomplete")):
        return f"The connection to the model provider broke off mid-answer{detail}. Send your message again."
    return None


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Any string a client can send, made safe for the model, the stores and the stream: lone surrogates
    (which cannot be encoded as UTF-8) become U+FFFD, control characters other than tab and newline go."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return CONTROL.sub("", text)


def thread_id(learner_id: str) -> str:
    """One persistent conversation per learner, so a reload or a restart finds it again."""
    return f"learner:{learner_id}"


class TutorSession:
    """Everything a process needs to run turns; build once, use from many threads."""

    def __init__(self, settings: Settings | None = None, model: BaseChatModel | None = None) -> None:
        self.settings = settings or Settings()
        self.settings.ensure_dirs()
        self.spec = parse_model_spec(self.settings.model)
        self.model = model if model is not None else build_chat_model(self.settings)
        self.learners = LearnerStore(self.settings.learner_db, self.settings.database_url)
        self.checkpointer, self._closer = make_checkpointer(self.settings)
        # the learners' kernels, under this session's data dir and limits; started on the first run
        self.kernels = KernelService.from_settings(self.settings, lazy=True)
        self.graph = build_graph(self.checkpointer)
        self.identity = Identity(load_key(self.settings.data_dir, self.settings.secret_key))
        self.message_limit = RateLimiter(self.settings.messages_per_minute)
        self._turn_locks: dict[str, threading.Lock] = {}
        self._turn_locks_guard = threading.Lock()

    def turn_lock(self, learner_id: str) -> threading.Lock:
        """One turn at a time per learner: a second tab's message waits for the first to finish, so the
        checkpoint keeps every message and reply, in order."""
        with self._turn_locks_guard:
            return self._turn_locks.setdefault(learner_id, threading.Lock())

    @property
    def model_label(self) -> str:
        return self.spec.label

    def context(self) -> Context:
        return Context(
            model=self.model,
            settings=self.settings,
            learners=self.learners,
            model_label=self.spec.label,
            embedded=self.spec.is_embedded,
            kernels=self.kernels,
        )

    def config(self, learner_id: str, callbacks: list | None = None) -> dict:
        # Two pool threads per run (the node and LangGraph's stream waiter): each new thread cost ~2 ms.
        config: dict[str, Any] = {
            "configurable": {"thread_id": thread_id(learner_id)},
            "recursion_limit": 25,
            "max_concurrency": 2,
        }
        if callbacks:
            config["callbacks"] = callbacks
        return config

    def validate_message(self, text: str) -> str | None:
        """A user-facing reason to refuse the message, or None when it is fine."""
        if not text or not text.strip():
            return "Please type a message."
        if len(text) > self.settings.max_message_chars:
            return (
                f"Your message is {len(text):,} characters; the limit is "
                f"{self.settings.max_message_chars:,} (TUTOR_MAX_MESSAGE_CHARS). Please shorten it."
            )
        return None

    def conversation(self, learner_id: str) -> tuple[list[BaseMessage], dict | None]:
        """The checkpointed messages and the question the graph is waiting on (intake, quiz), from one read."""
        snapshot = self.graph.get_state(self.config(learner_id))
        messages = list(snapshot.values.get("messages", [])) if snapshot and snapshot.values else []
        for task in snapshot.tasks if snapshot else ():
            for intr in task.interrupts:
                return messages, intr.value if isinstance(intr.value, dict) else {"question": str(intr.value)}
        return messages, None

    def pending_question(self, learner_id: str) -> dict | None:
        """The question the graph is waiting on (intake, quiz), if any."""
        return self.conversation(learner_id)[1]

    def stream_turn(
        self, learner_id: str, text: str, canceller: CancelOnDemand | None = None, interactive: bool = False
    ) -> Iterator[TurnEvent]:
        """Run one turn, yielding tokens as they arrive and whole messages from non-LLM nodes.

        Closing the iterator early (or `canceller.cancel()`) stops the model at its next token.
        Interactive (web) turns are rate-limited per learner."""
        text = clean_text(text or "")
        problem = self.validate_message(text)
        if problem:
            yield TurnEvent("error", problem)
            return
        wait = self.message_limit.check(learner_id) if interactive else 0.0
        if wait:
            limit = self.settings.messages_per_minute
            yield TurnEvent("error", f"That is more than {limit} messages a minute (TUTOR_MESSAGES_PER_MINUTE). "
                                     f"Wait {wait:.0f} s and send it again; nothing was lost.")  # fmt: skip
            return
        with self.turn_lock(learner_id):
            yield from self._stream_turn(learner_id, text, canceller, interactive)

    def _stream_turn(
        self, learner_id: str, text: str, canceller: CancelOnDemand | None, interactive: bool
    ) -> Iterator[TurnEvent]:
        inputs: Any
        if self.pending_question(learner_id) is not None:
            inputs = Command(resume=text)  # the learner is answering the question the graph asked
        else:
            inputs = {"messages": [HumanMessage(text)], "learner_id": learner_id, "interactive": interactive}
        canceller = canceller or CancelOnDemand()
        # Keep our own reference to the graph's stream: if the consumer goes away, the model must be
        # told to stop *before* the stream is closed (closing waits for the running node to finish).
        stream = self.graph.stream(
            inputs,
            self.config(learner_id, [canceller]),
            context=self.context(),
            stream_mode=["messages", "updates", "custom"],
            durability="exit",  # one checkpoint write per turn (or interrupt, error, cancel): 3-4 ms less per turn
        )
        try:
            for mode, payload in stream:
                if mode == "custom":
                    if isinstance(payload, dict) and payload.get("queued"):
                        yield TurnEvent("status", queued_note(payload["queued"]), payload)
                    continue
                if mode == "messages":
                    chunk, meta = payload
                    is_tutor_token = isinstance(chunk, AIMessageChunk) and meta.get("langgraph_node") == "tutor"
                    if is_tutor_token and chunk.text:
                        yield TurnEvent("token", chunk.text)
                    continue
                for node, update in (payload or {}).items():
                    if node == "__interrupt__":
                        for intr in update:
                            value = intr.value if isinstance(intr.value, dict) else {"question": str(intr.value)}
                            yield TurnEvent("interrupt", value.get("question", ""), value)
                        continue
                    for message in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                        yield from _message_events(node, message)
        except GeneratorExit:
            canceller.cancel()
            with contextlib.suppress(Exception):
                stream.close()
            raise
        except TurnCancelled:
            self.repair(learner_id)
            yield TurnEvent("error", "Stopped.")
        except ProviderError as exc:
            self.repair(learner_id)
            yield TurnEvent("error", str(exc))
        except Exception as exc:  # the model server went away, a tool crashed: say so, keep the session
            log.exception("turn failed for learner %s", learner_id)
            self.repair(learner_id)
            yield TurnEvent("error", provider_failure(exc) or f"The turn failed: {type(exc).__name__}: {exc}".strip())

    def repair(self, learner_id: str) -> None:
        """After a failed turn, answer any tool call left without a result, so the checkpointed history stays
        valid for providers that reject it (the next turn would fail otherwise)."""
        try:
            missing = missing_results(self.history(learner_id))
            if missing:
                self.graph.update_state(self.config(learner_id), {"messages": missing}, as_node="teach")
        except Exception:  # the store itself is failing: the error line already tells the learner
            log.exception("could not repair the history of %s", learner_id)

    def run_turn(self, learner_id: str, text: str) -> dict:
        """One non-interactive turn: {"answer", "citations", "tools", "error"}."""
        answer, citations, tools, error, move = "", [], [], None, ""
        streamed = ""
        for event in self.stream_turn(learner_id, text):
            if event.kind == "token":
                streamed += event.text
            elif event.kind == "interrupt":
                answer = event.text
            elif event.kind == "message":
                answer = event.text
                citations += event.data.get("citations", [])
                move = event.data.get("move") or move
            elif event.kind == "tool_call":
                tools.append(event.data["name"])
            elif event.kind == "tool_result":
                citations += event.data.get("citations", [])
            elif event.kind == "error":
                error = event.text
        result = {"answer": answer or streamed, "citations": _dedupe(citations), "tools": tools, "error": error}
        return {**result, "move": move}

    def history(self, learner_id: str) -> list[BaseMessage]:
        return self.conversation(learner_id)[0]

    def close(self) -> None:
        self.kernels.shutdown()
        self._closer()
        self.learners.close()


def _message_events(node: str, message: BaseMessage) -> Iterator[TurnEvent]:
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            yield TurnEvent("tool_call", f"{call['name']}({call['args']})", {"name": call["name"], **call})
        if message.text:
            citations = message.additional_kwargs.get("citations", [])
            images = (message.additional_kwargs.get("run") or {}).get("images", [])
            kw = message.additional_kwargs
            data = {"node": node, "citations": citations, "images": images, "move": kw.get("move", ""),
                    "moves": kw.get("moves", []), "options": kw.get("options", [])}  # fmt: skip
            yield TurnEvent("message", message.text, data)
    elif isinstance(message, ToolMessage):
        citations = []
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        if artifact.get("source"):
            citations.append({"source": artifact["source"], "heading": artifact.get("heading", "")})
        citations += artifact.get("citations", [])
        yield TurnEvent("tool_result", message.text, {"name": message.name, "citations": citations})


def _dedupe(citations: list[dict]) -> list[dict]:
    seen, out = set(), []
    for c in citations:
        key = (c.get("source"), c.get("heading"))
        if key not in seen:
            seen.add(key)
            out.append({"source": c.get("source"), "heading": c.get("heading")})
    return out
