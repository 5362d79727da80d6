"""The tutor with a capable model, on the wire: the real graph, session and `tutor ask --json` talk to the
scripted OpenAI and Anthropic servers through the real langchain-openai / langchain-anthropic clients. After
every failure (429, 500, a cut stream, a malformed tool call) the checkpointed history stays valid: the strict
servers reject a history with an unanswered or unknown tool call, so the next turn succeeding proves it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from tests.wire import anthropic_server as anthropic_wire
from tests.wire import openai_server as openai_wire
from tests.wire.script import Cut, Error, ToolCall, ToolCalls, malformed_tool_call
from tutor.agent.history import missing_results

pytestmark = pytest.mark.slow
PROTOCOLS = ["openai", "anthropic"]


@pytest.fixture(params=PROTOCOLS)
def wire(request, index_dir, tmp_path, monkeypatch):
    """(server, settings overrides, protocol module) for one protocol, on a data dir with the course index."""
    server = request.getfixturevalue(f"{request.param}_server")
    data = tmp_path / "data"
    shutil.copytree(index_dir, data)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    if request.param == "openai":
        overrides = {"model": f"openai-compatible/scripted@{server.base_url}"}
    else:
        overrides = {"model": "anthropic/claude-scripted", "anthropic_url": server.base_url}
    module = openai_wire if request.param == "openai" else anthropic_wire
    return server, {"data_dir": data, "model_retries": 0, "kernel_sandbox": "off", **overrides}, module


def make_session(overrides: dict, **more):
    from tutor.config import Settings
    from tutor.session import TutorSession

    return TutorSession(Settings(_env_file=None, **{**overrides, **more}))


def valid(session, learner: str) -> bool:
    history = session.history(learner)
    return not missing_results(history) and not any(
        isinstance(m, AIMessage) and m.invalid_tool_calls and m.tool_calls for m in history
    )


def test_explain_with_a_search_call_and_a_citation(wire):
    server, overrides, module = wire
    server.load(ToolCalls((ToolCall("search_curriculum", {"query": "scaled dot-product attention"}),)),
                "Scores are divided by sqrt(d_k) so the softmax does not saturate "
                "(01_transformer_architecture/02_attention_mechanism.md).")  # fmt: skip
    session = make_session(overrides)
    try:
        result = session.run_turn("ann", "why divide attention scores by sqrt(d_k)?")
        assert result["error"] is None and result["tools"] == ["search_curriculum"]
        assert any("02_attention_mechanism.md" in c["source"] for c in result["citations"])
        first, second = server.bodies[-2], server.bodies[-1]
        assert "llm-tutor" in module.system_prompt(first)  # the tutor's system prompt reached the model
        results = module.tool_results(second)
        assert results and "<course source=" in str(results[0][1])  # the course text went back as the tool result
        assert valid(session, "ann")
    finally:
        session.close()


def test_run_code_two_calls_in_one_message_and_progress(wire):
    server, overrides, module = wire
    server.load(
        ToolCalls((ToolCall("run_code", {"code": "print(6 * 7)"}), ToolCall("learner_progress", {"what": "next"}))),
        "It printed 42, and your next step is the first lesson.",
    )  # fmt: skip
    session = make_session(overrides)
    try:
        session.learners.update_profile("ann", track="software_engineer", strategy="practice_first")
        result = session.run_turn("ann", "run 6*7 and tell me what to do next")
        assert result["tools"] == ["run_code", "learner_progress"] and result["error"] is None
        results = dict(module.tool_results(server.bodies[-1]))
        assert len(results) == 2 and any("42" in str(v) for v in results.values())
        assert valid(session, "ann")
    finally:
        session.close()


def test_start_a_quiz_and_answer_it(wire):
    server, overrides, _module = wire
    server.load(ToolCalls((ToolCall("start_quiz", {"request": "week 1"}),)))
    session = make_session(overrides)
    try:
        session.learners.update_profile("ann", track="software_engineer", strategy="practice_first")
        session.run_turn("ann", "I would like to be tested on the first week now")
        assert "Q1/" in session.pending_question("ann")["question"]
        session.run_turn("ann", "skip")  # the graph runs the quiz; the model is not asked
        assert "Q2/" in session.pending_question("ann")["question"]
        assert len(server.bodies) == 1 and valid(session, "ann")
    finally:
        session.close()


def test_failures_end_the_turn_with_one_line_and_the_next_turn_succeeds(wire):
    server, overrides, _module = wire
    session = make_session(overrides)
    try:
        cases = [  # the failures of a model call
            (Error(429, "slow down"), "rate-limiting"),
            (Error(500, "boom"), "server error"),
            (Cut("Attention lets each token"), "broke off"),
        ]
        for step, line in cases:
            server.load(step, "Recovered: ask me anything.")
            first = session.run_turn("ann", "tell me about attention")
            if line:
                assert first["error"] and line in first["error"].lower() and "\n" not in first["error"]
            second = session.run_turn("ann", "and now?")
            assert second["error"] is None and "Recovered" in second["answer"], (step, second)
            assert valid(session, "ann")
        # malformed tool arguments: an error result goes back and the model answers in the same turn
        server.load(malformed_tool_call("search_curriculum"), "Recovered after a malformed call.")
        assert "Recovered" in session.run_turn("ann", "search for attention")["answer"] and valid(session, "ann")
        assert "not valid JSON" in str(_module.tool_results(server.bodies[-1]))
        server.load(ToolCalls((ToolCall("search_curriculum", {"query": "attention"}),)), Cut("The course says"),
                    "Recovered after a cut inside the tool loop.")  # fmt: skip
        assert session.run_turn("ann", "explain attention")["error"]
        assert "Recovered" in session.run_turn("ann", "try again")["answer"] and valid(session, "ann")
    finally:
        session.close()


def test_a_rate_limit_is_retried_by_the_client(wire):
    server, overrides, _module = wire
    server.load(Error(429, "slow down", retry_after=0.01), "Here after one retry.")
    session = make_session(overrides, model_retries=2)
    try:
        assert session.run_turn("ann", "hello")["answer"] == "Here after one retry."
        assert len(server.bodies) == 2
    finally:
        session.close()


def test_tutor_ask_json_over_the_wire(wire):
    server, overrides, _module = wire
    server.load(ToolCalls((ToolCall("search_curriculum", {"query": "LoRA low-rank adapters"}),)),
                "LoRA trains two small matrices (06_fine_tuning/01_fine_tuning_methods.md).")  # fmt: skip
    env = {**os.environ, "TUTOR_DATA_DIR": str(overrides["data_dir"]), "TUTOR_MODEL": overrides["model"],
           "TUTOR_MODEL_RETRIES": "0", "ANTHROPIC_API_KEY": "test-key"}  # fmt: skip
    if overrides.get("anthropic_url"):
        env["TUTOR_ANTHROPIC_URL"] = overrides["anthropic_url"]
    tutor = str(Path(sys.executable).parent / "tutor")
    proc = subprocess.run([tutor, "ask", "how does LoRA work?", "--learner", "cli-ann", "--json"],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tools"] == ["search_curriculum"] and "LoRA trains" in out["answer"] and out["citations"]
