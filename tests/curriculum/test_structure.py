"""The course is complete and consistent: schemas, references, quiz items."""

from __future__ import annotations

import pytest
import yaml

from tutor.curriculum.lessons import load_lessons
from tutor.curriculum.schema import SKILLS, QuizFile
from tutor.curriculum.validate import check_code_items, knowledge_root, run_code_item, validate

ROOT = knowledge_root()
ROADMAP_LESSONS = [
    "01_transformer_architecture/01_what_are_transformers.md",
    "01_transformer_architecture/02_attention_mechanism.md",
    "01_transformer_architecture/03_multi_head_attention.md",
    "01_transformer_architecture/04_positional_encoding.md",
    "01_transformer_architecture/05_transformer_components.md",
    "02_pretrained_models/01_understanding_pretraining.md",
]
ROADMAP_NOTEBOOKS = [
    "01_transformer_basics", "02_working_with_pretrained_models", "03_prompt_engineering_workshop",
    "04_building_rag_system", "05_fine_tuning_techniques", "06_model_optimization",
    "07_evaluating_llm_applications", "08_production_deployment", "09_multimodal_applications",
    "10_advanced_rag_techniques",
]  # fmt: skip
MODULES = [
    "01_transformer_architecture", "02_pretrained_models", "03_prompt_engineering", "04_rag_systems",
    "05_production_deployment", "06_fine_tuning", "07_multimodal", "08_evaluating_llms",
]  # fmt: skip


def _quizzes() -> list[QuizFile]:
    return [QuizFile(**yaml.safe_load(p.read_text())) for p in sorted((ROOT / "quizzes").glob("*.yaml"))]


def test_validator_finds_no_problem():
    assert validate() == []


def test_every_file_the_roadmap_names_exists():
    for path in ROADMAP_LESSONS:
        assert (ROOT / path).is_file(), path
    for name in ROADMAP_NOTEBOOKS:
        assert (ROOT / "notebooks" / f"{name}.ipynb").is_file(), name
    for module in MODULES:
        lessons = list((ROOT / module).glob("*.md"))
        assert lessons, f"module {module} has no lessons"
    for module in MODULES[2:5]:  # prompting, RAG, production: at least the five the roadmap names
        assert len(list((ROOT / module).glob("*.md"))) >= 5, module


def test_lessons_have_objectives_misconceptions_self_checks():
    for lesson in load_lessons(ROOT):
        checks = next(s for s in lesson.sections if s.anchor == "self-check-questions")
        numbered = [line for line in checks.text.splitlines() if line[:3].strip().rstrip(".").isdigit()]
        assert len(numbered) == 3, f"{lesson.source}: self-check must have three numbered questions"
        assert lesson.meta.objectives


def test_every_skill_has_a_quiz_with_enough_mixed_items():
    quizzes = {q.skill: q for q in _quizzes()}
    assert sorted(quizzes) == sorted(SKILLS)
    assert sum(len(q.items) for q in quizzes.values()) >= 96
    for skill, quiz in quizzes.items():
        types = {item.type for item in quiz.items}
        assert len(quiz.items) >= 8, skill
        assert {"mcq", "short"} <= types, f"{skill} needs multiple choice and short answer items"
    hands_on = ["w1.attention", "w1.text_classification", "w2.prompting", "w2.rag", "w2.end_to_end_app",
                "w3.deployment", "w3.optimization", "w2.finetuning_vs_pretraining"]  # fmt: skip
    for skill in hands_on:
        assert any(i.type == "code" for i in quizzes[skill].items), f"{skill} needs a code exercise"


def test_mcq_keys_resolve_and_every_option_is_explained():
    for quiz in _quizzes():
        for item in quiz.items:
            if item.type == "mcq":
                assert item.answer in {o.id for o in item.options}
                assert all(o.explanation.strip() for o in item.options)


def test_hints_do_not_contain_the_answer():
    for quiz in _quizzes():
        for item in quiz.items:
            if item.type == "mcq":
                key = next(o for o in item.options if o.id == item.answer)
                assert key.text.strip().lower() not in item.hint.lower(), item.id


def _code_items():
    return [pytest.param(i, id=i.id) for q in _quizzes() for i in q.items if i.type == "code"]


@pytest.mark.parametrize("item", _code_items())
def test_code_exercise_solution_passes_and_starter_fails(item):
    assert run_code_item(item.solution, item.tests), "reference solution must pass the hidden tests"
    assert not run_code_item(item.starter_code, item.tests), "starter code must fail the hidden tests"


def test_check_code_items_agrees():
    assert check_code_items() == []
