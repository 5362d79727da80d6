"""Which items a quiz asks: 8-12 across a week's four skills, weighted toward low mastery, never an item
the learner got right in their last attempt at it; or a handful on one skill."""

from __future__ import annotations

import random

from tools.quiz.bank import Item, load_bank, skill_of, week_of

CHECKPOINT_SIZE = 10
SKILL_QUIZ_SIZE = 5
DIAGNOSTIC_SIZE = 5


def _last_correct(attempts: list[dict]) -> set[str]:
    """Items whose most recent attempt was right."""
    last: dict[str, bool] = {}
    for a in attempts:  # oldest first
        last[a["item_id"]] = bool(a["correct"])
    return {item for item, ok in last.items() if ok}


def select_checkpoint(
    week: int, mastery: dict[str, float], attempts: list[dict], size: int = CHECKPOINT_SIZE, seed: int | None = None
) -> list[Item]:
    """Items for the week's checkpoint: each skill gets at least two, the rest go to the weakest skills."""
    rng = random.Random(seed)
    skip = _last_correct(attempts)
    by_skill: dict[str, list[Item]] = {}
    for item in load_bank().values():
        if week_of(item) == week and item.id not in skip:
            by_skill.setdefault(skill_of(item), []).append(item)
    for items in by_skill.values():
        rng.shuffle(items)
    chosen: list[Item] = []
    for items in by_skill.values():
        chosen += items[:2]
        del items[:2]
    # remaining slots: sample skills with weight (1 - mastery), so weak skills get more questions
    while len(chosen) < size and any(by_skill.values()):
        skills = [s for s, items in by_skill.items() if items]
        weights = [max(0.05, 1.0 - mastery.get(s, 0.15)) for s in skills]
        skill = rng.choices(skills, weights)[0]
        chosen.append(by_skill[skill].pop())
    rng.shuffle(chosen)
    return chosen[:size]


def select_skill(skill: str, attempts: list[dict], size: int = SKILL_QUIZ_SIZE, seed: int | None = None) -> list[Item]:
    rng = random.Random(seed)
    skip = _last_correct(attempts)
    items = [i for i in load_bank().values() if skill_of(i) == skill and i.id not in skip]
    if len(items) < size:  # everything answered right already: allow repeats rather than an empty quiz
        items += [i for i in load_bank().values() if skill_of(i) == skill and i not in items]
    rng.shuffle(items)
    return items[:size]


def select_diagnostic(seed: int | None = None) -> list[Item]:
    """Five multiple-choice items spread over the weeks, to seed mastery ("test out")."""
    rng = random.Random(seed)
    pools: dict[str, list[Item]] = {}
    for item in load_bank().values():
        if item.type == "mcq" and item.difficulty >= 2:
            pools.setdefault(skill_of(item), []).append(item)
    skills = sorted(pools)
    rng.shuffle(skills)
    return [rng.choice(pools[s]) for s in skills[:DIAGNOSTIC_SIZE]]
