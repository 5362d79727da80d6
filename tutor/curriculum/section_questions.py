"""The learner-style questions each lesson section answers (`knowledge/section_questions.yaml`).

Curriculum content like the lessons, so it is loaded here; retrieval (tutor/retrieval/questions.py)
embeds it and the validator checks every section has some.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tutor.curriculum.lessons import slugify

FILE = "section_questions.yaml"


@dataclass(frozen=True)
class SectionQuestion:
    source: str  # lesson path relative to knowledge/
    anchor: str
    text: str

    @property
    def citation(self) -> str:
        return f"{self.source}#{self.anchor}"


def load_questions(knowledge: Path) -> list[SectionQuestion]:
    path = knowledge / FILE
    if not path.exists():
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 0.02 s instead of 0.4 s for this file
    data = yaml.load(path.read_text(), Loader=loader) or {}
    out = []
    for lesson in data.get("lessons", []):
        for section in lesson.get("sections", []):
            anchor = slugify(section["heading"])
            out += [SectionQuestion(lesson["source"], anchor, q.strip()) for q in section.get("questions", [])]
    return out
