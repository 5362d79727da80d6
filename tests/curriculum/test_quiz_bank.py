"""The quiz bank is fair to a learner: multiple choice cannot be gamed, every reference answer passes its own
rubric, and every false variant written for a rubric point fails that point with the offline grader."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.quiz.bank import load_bank
from tools.quiz.grading import EmbeddingRubricGrader

BANK = load_bank()
MCQ = [i for i in BANK.values() if i.type == "mcq"]
SHORT = [i for i in BANK.values() if i.type == "short"]


def test_the_longest_option_is_not_a_strategy():
    longest = 0
    for item in MCQ:
        lengths = {o.id: len(o.text) for o in item.options}
        longest += lengths[item.answer] == max(lengths.values())
    assert longest / len(MCQ) <= 0.30, f"the longest option is the key in {longest} of {len(MCQ)} items"


def test_key_positions_are_spread_over_a_to_d():
    keys = Counter(item.answer for item in MCQ)
    assert set(keys) == {"a", "b", "c", "d"}
    assert max(keys.values()) - min(keys.values()) <= max(4, len(MCQ) // 8), keys


@pytest.mark.parametrize("item", SHORT, ids=lambda i: i.id)
def test_reference_answer_passes_its_own_rubric(item):
    graded = EmbeddingRubricGrader().grade(item, item.reference_answer)
    assert graded.correct, graded.details["missed"]


@pytest.mark.parametrize("item", [i for i in SHORT if any(p.wrong for p in i.rubric)], ids=lambda i: i.id)
def test_false_variants_fail_their_point(item):
    grader = EmbeddingRubricGrader()
    for point in item.rubric:
        for wrong in point.wrong:
            graded = grader.grade(item, wrong)
            assert point.point not in graded.details.get("met", []), (point.point, wrong)
