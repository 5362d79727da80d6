"""Fixtures: one OpenAI and one Anthropic fake per test session, with a fresh script per test.

Starting uvicorn costs little but stopping it takes about 0.2 s (its shutdown polls), so the
servers live for the session and each test gets an emptied script and request log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wire.anthropic_server import AnthropicServer
from tests.wire.openai_server import OpenAIServer


@pytest.fixture(scope="session")
def _openai_session_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def _anthropic_session_server() -> Iterator[AnthropicServer]:
    with AnthropicServer() as server:
        yield server


@pytest.fixture
def openai_server(_openai_session_server: OpenAIServer) -> Iterator[OpenAIServer]:
    """The running OpenAI fake with no steps and no recorded requests; `.load(...)` a script."""
    _openai_session_server.load()
    _openai_session_server.strict = True
    yield _openai_session_server
    _openai_session_server.load()


@pytest.fixture
def anthropic_server(_anthropic_session_server: AnthropicServer) -> Iterator[AnthropicServer]:
    """The running Anthropic fake with no steps and no recorded requests; `.load(...)` a script."""
    _anthropic_session_server.load()
    _anthropic_session_server.strict = True
    yield _anthropic_session_server
    _anthropic_session_server.load()
