"""Real models: the embedded llama.cpp model in-process, and the same GGUF behind an OpenAI-compatible
server (`python -m llama_cpp.server` on loopback) reached through the `openai-compatible` provider."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import free_port, wait_for_http
from tutor.config import Settings
from tutor.models import build_chat_model, embedded_server_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server():
    port = free_port()
    proc = subprocess.Popen(embedded_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    if not wait_for_http(url + "/models", 90):
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_embedded_model_streams_a_real_turn(session_factory):
    session = session_factory(None)  # default settings: the embedded model
    # chit-chat goes to the model itself (course questions are answered by quoting the course instead)
    events = list(session.stream_turn("ann", "hello, who are you?"))
    tokens = [e.text for e in events if e.kind == "token"]
    assert not [e for e in events if e.kind == "error"]
    assert len(tokens) > 3, "tokens should arrive one by one"
    assert len("".join(tokens).strip()) > 10
    history = session.history("ann")
    assert history[-1].text == "".join(tokens)  # the streamed text is what was checkpointed


def test_openai_compatible_round_trip(llama_server, data_dir):
    settings = Settings(
        _env_file=None, data_dir=data_dir, model=f"openai-compatible/smol@{llama_server}", max_tokens=48
    )
    model = build_chat_model(settings, env={})  # probes the server, no key needed
    chunks = list(model.stream([("human", "Say hello to a new student.")]))
    assert len(chunks) > 2
    assert "".join(c.text for c in chunks).strip()

    from tutor.session import TutorSession

    session = TutorSession(settings, model=model)
    try:
        result = session.run_turn("ann", "Say hello")
        assert result["error"] is None and result["answer"].strip()
    finally:
        session.close()
