"""The quiz bank from knowledge/quizzes, and the learner-safe view of an item (never the key)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from tutor.curriculum.schema import CodeItem, McqItem, NumericItem, QuizFile, ShortItem
from tutor.paths import knowledge_dir

Item = McqItem | ShortItem | CodeItem | NumericItem


@lru_cache(maxsize=2)
def load_bank(root: Path | None = None) -> dict[str, Item]:
    root = root or knowledge_dir()
    bank: dict[str, Item] = {}
    for path in sorted((root / "quizzes").glob("*.yaml")):
        for item in QuizFile(**yaml.safe_load(path.read_text())).items:
            bank[item.id] = item
    return bank


def skill_of(item: Item) -> str:
    """Ids are `<skill>.<slug>` and skills look like `w1.attention`."""
    return ".".join(item.id.split(".")[:2])


def week_of(item: Item) -> int:
    return int(item.id[1])


def public_view(item: Item) -> dict:
    """What a learner (and any prompt) may see before answering: no key, rubric, reference or tests."""
    view = {"id": item.id, "skill": skill_of(item), "type": item.type, "prompt": item.prompt, "options": []}
    if item.type == "mcq":
        view["options"] = [{"id": o.id, "text": o.text} for o in item.options]
    if item.type == "code":
        view["starter_code"] = item.starter_code
    if item.type == "numeric":
        view["unit"] = item.unit
    return view


def get_item(item_id: str) -> Item:
    bank = load_bank()
    if item_id not in bank:
        raise KeyError(f"no quiz item {item_id!r}; `tutor quiz list` shows the ids")
    return bank[item_id]
