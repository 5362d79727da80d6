"""Code in a chat message runs in the learner's kernel without reaching the model."""

import pytest

from tests.conftest import fake_model

pytestmark = pytest.mark.slow


def test_fenced_code_and_run_command_use_the_learners_kernel(session_factory):
    model = fake_model("unused")
    session = session_factory(model)
    first = session.run_turn("ann", "Can you run this?\n```python\nanswer = 6 * 7\nprint(answer)\n```")
    assert "42" in first["answer"] and first["error"] is None
    second = session.run_turn("ann", "/run print(answer + 1)")
    assert "43" in second["answer"]
    other = session.run_turn("bob", "/run print('answer' in globals())")
    assert "False" in other["answer"]  # bob's kernel is not ann's
    assert model.prompts == []
    last = session.history("ann")[-1]
    assert last.additional_kwargs["run"]["status"] == "ok"


def test_lesson_example_runs_by_command(session_factory):
    session = session_factory(fake_model("unused"))
    result = session.run_turn("ann", "/example 02_attention_mechanism")
    assert "**ok**" in result["answer"]
    assert result["citations"][0]["source"].endswith("02_attention_mechanism.md")
