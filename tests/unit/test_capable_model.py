"""The capable-model path with a fake model: the teaching core as tools (explain, check, quiz, progress),
the last-step guard at the recursion limit, and a history that never keeps an unanswered tool call."""

from __future__ import annotations

import itertools
import shutil

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from tests.conftest import FakeToolModel, fake_model
from tutor.agent.history import NOT_RUN, missing_results

CAPABLE = "openai/gpt-4o-mini"


def call(name: str, args: dict, id_: str = "c1") -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": id_}])


@pytest.fixture
def indexed(index_dir, data_dir):
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)


def test_explain_topic_quotes_the_course_and_sets_the_topic(session_factory, indexed):
    model = fake_model(call("explain_topic", {"topic": "why divide by sqrt(d_k)", "move": "why"}),
                       "Because large dot products saturate the softmax (see the cited section).")  # fmt: skip
    session = session_factory(model, model=CAPABLE)
    result = session.run_turn("ann", "why do we scale attention scores?")
    assert result["tools"] == ["explain_topic"]
    assert any(c["source"].endswith("02_attention_mechanism.md") for c in result["citations"])
    tool_result = next(m for m in model.prompts[1] if isinstance(m, ToolMessage))
    assert "> " in tool_result.text and "02_attention_mechanism.md" in tool_result.text  # quoted course text
    dialogue = session.graph.get_state(session.config("ann")).values["dialogue"]
    assert dialogue["topic"]["lesson"].endswith("02_attention_mechanism.md")
    system = model.prompts[0][0].text
    assert "mastery (P(known)): w1.attention 0.15" in system  # the model sees the learner's mastery


def test_start_quiz_hands_the_turn_to_the_quiz_flow(session_factory):
    model = fake_model(call("start_quiz", {"request": "week 1"}), "unused")
    session = session_factory(model, model=CAPABLE)
    session.learners.update_profile("ann", track="software_engineer", strategy="practice_first")
    result = session.run_turn("ann", "I'm ready to be tested on week 1")
    pending = session.pending_question("ann")
    assert result["tools"] == ["start_quiz"] and pending and "Q1/" in pending["question"]
    assert "Week 1 checkpoint" in result["answer"] or "Q1/" in result["answer"]
    assert not missing_results(session.history("ann"))  # the tool call has its result
    session.run_turn("ann", "skip")
    assert "Q2/" in session.pending_question("ann")["question"]  # graded by the graph, not by the model


def test_check_understanding_is_graded_by_the_tutor(session_factory, indexed):
    model = fake_model(
        call("explain_topic", {"topic": "scaled dot-product attention"}), "Here it is.",
        call("check_understanding", {}, "c2"), "Here is your question.",
    )  # fmt: skip
    session = session_factory(model, model=CAPABLE)
    session.run_turn("ann", "explain attention")
    session.run_turn("ann", "check me")
    check = session.graph.get_state(session.config("ann")).values["dialogue"]["check"]
    answer = check["options"][0][0] if check.get("options") else "softmax"
    result = session.run_turn("ann", answer)
    assert result["move"] == "graded" and len(session.learners.attempts("ann")) == 1


def test_learner_progress_tool_reads_the_record(session_factory):
    model = fake_model(call("learner_progress", {"what": "progress"}), "You are at the start of week 1.")
    session = session_factory(model, model=CAPABLE)
    session.learners.update_profile("ann", track="data_scientist", strategy="theory_first")
    session.run_turn("ann", "how am I doing?")
    tool_result = next(m for m in model.prompts[1] if isinstance(m, ToolMessage))
    assert "P(known)" in tool_result.text and "Data Scientists" in tool_result.text


def test_the_recursion_limit_ends_with_an_answer_and_a_valid_history(session_factory):
    looping = FakeToolModel(messages=itertools.repeat(call("search_curriculum", {"query": "attention"})), prompts=[])
    session = session_factory(looping, model=CAPABLE)
    result = session.run_turn("ann", "tell me everything about attention")
    assert result["error"] is None and result["answer"].strip()  # the learner gets an answer
    history = session.history("ann")
    assert not missing_results(history) and isinstance(history[-1], AIMessage) and not history[-1].tool_calls
    assert "cannot call tools any more" in looping.prompts[-1][0].text  # the last step was told


def test_a_failed_turn_leaves_no_unanswered_tool_call(session_factory):
    session = session_factory(fake_model("a reply", "another reply"), model=CAPABLE)
    session.run_turn("ann", "hello")
    config = session.config("ann")
    session.graph.update_state(config, {"messages": [call("run_code", {"code": "1"}, "dangling")]}, as_node="teach")
    assert missing_results(session.history("ann"))
    session.repair("ann")
    history = session.history("ann")
    assert not missing_results(history)
    assert next(m for m in history if isinstance(m, ToolMessage)).text == NOT_RUN
    assert session.run_turn("ann", "next question")["answer"] == "another reply"  # the next turn works
