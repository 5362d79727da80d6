"""The learner questions retrieval learns from are the curriculum's, not the evals'."""

from __future__ import annotations

from evals.leakage import eval_messages, near_pairs
from tutor.curriculum.section_questions import load_questions
from tutor.curriculum.validate import knowledge_root


def test_no_section_question_is_a_copy_of_an_eval_message():
    questions = [q.text for q in load_questions(knowledge_root())]
    messages = eval_messages()
    assert len(questions) > 1000 and len(messages) > 500
    assert near_pairs(questions, messages) == []


def test_the_leakage_check_would_catch_a_paraphrase():
    pairs = near_pairs(["should I bake model weights into the docker image?"],
                       ["should I bake the model weights into my docker image?", "what is attention?"])  # fmt: skip
    assert [m for _s, _q, m in pairs] == ["should I bake the model weights into my docker image?"]
