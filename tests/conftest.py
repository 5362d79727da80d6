"""Shared fixtures: isolated data dirs and a fake chat model for wiring tests."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # llama.cpp threads must not spin while tests share 2 cores


class FakeToolModel(GenericFakeChatModel):
    """Replays scripted messages; `bind_tools` returns self so the graph's tool path can be driven.

    Records every prompt it receives so tests can assert what reached the model.
    """

    prompts: list[list[Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any) -> FakeToolModel:
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        """Word-by-word like the parent, but tool calls survive streaming (the parent drops them)."""
        self.prompts.append(list(messages))
        message = next(self.messages)
        if isinstance(message, str):
            message = AIMessage(message)
        if message.tool_calls:
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content=message.text, tool_call_chunks=chunks))
            return
        for piece in re.split(r"(\s)", message.text):
            if piece:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk


def fake_model(*replies: str | AIMessage) -> FakeToolModel:
    messages = [r if isinstance(r, AIMessage) else AIMessage(r) for r in replies]
    return FakeToolModel(messages=iter(messages), prompts=[])


def free_port() -> int:
    """A loopback port nothing listens on (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float) -> bool:
    """Poll a server the tests started until it answers with a success status (False on timeout)."""
    import time

    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).is_success:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """A data dir holding the whole curriculum index, built once per test run (real MiniLM, real Chroma)."""
    from tutor.config import Settings
    from tutor.retrieval.indexer import index_curriculum

    path = tmp_path_factory.mktemp("indexed")
    index_curriculum(Settings(_env_file=None, data_dir=path))
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path):
    from tutor.config import Settings

    return Settings(data_dir=data_dir, model="embedded", _env_file=None)


@pytest.fixture
def session_factory(settings) -> Iterator:
    """Build TutorSessions on one data dir with given fake models; closes them afterwards."""
    from tutor.session import TutorSession

    made: list[TutorSession] = []

    def make(chat_model=None, **overrides):
        s = settings.model_copy(update=overrides) if overrides else settings
        session = TutorSession(s, model=chat_model)
        made.append(session)
        return session

    yield make
    for s in made:
        s.close()
