"""Lessons cut into passages (paragraphs, list blocks, code blocks) with a teaching role and an embedding.

Retrieval finds the section; a tutor quotes the one or two paragraphs of it that answer the question.
The role of a passage comes from the lesson's fixed shape (intro, mechanism, worked example, code,
misconceptions, self-checks), so a move ("simpler", "an example", "why?") can pick the passages that serve
it. Embeddings are computed once per curriculum version and cached in the data dir.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tutor.curriculum.lessons import Lesson, load_lessons

Role = str  # intro | intuition | mechanism | example | code | misconception | selfcheck

ROLE_RULES: tuple[tuple[str, Role], ...] = (
    (r"misconception", "misconception"),
    (r"self-check", "selfcheck"),
    (r"simple terms|intuition|big picture|at a glance|in plain", "intuition"),
    (r"worked|walkthrough|example", "example"),
    (r"in code|implement|from scratch|building|in numpy|in pytorch|you can run|harness|calculator", "code"),
)
FENCE = re.compile(r"^(```+|~~~+)")


@dataclass(frozen=True)
class Passage:
    """One quotable block of a lesson."""

    id: int
    lesson: str  # source path relative to knowledge/
    lesson_title: str
    anchor: str  # section anchor ("" for the lesson's intro)
    heading: str  # the section heading (the lesson title for the intro)
    role: Role
    text: str
    order: int  # position in the lesson

    @property
    def citation(self) -> str:
        return f"{self.lesson}#{self.anchor}" if self.anchor else self.lesson

    @property
    def has_code(self) -> bool:
        return "```" in self.text

    @property
    def code(self) -> str | None:
        found = re.search(r"```[\w+-]*[^\n]*\n(.*?)```", self.text, re.DOTALL)
        return found.group(1).strip() if found else None


def section_role(heading: str) -> Role:
    lower = heading.lower()
    for pattern, role in ROLE_RULES:
        if re.search(pattern, lower):
            return role
    return "mechanism"


def split_blocks(text: str) -> list[str]:
    """Paragraphs at blank lines; a fenced code block stays whole (with any blank lines inside it)."""
    blocks, current, fence = [], [], None
    for line in text.splitlines():
        marker = FENCE.match(line.strip())
        if fence is None and marker:
            fence = marker.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        if fence is None and not line.strip() and not marker:
            if current:
                blocks.append("\n".join(current).strip())
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current).strip())
    return [b for b in blocks if b]


def split_bullets(text: str) -> list[str]:
    """A markdown list block as its items (continuation lines joined to their item)."""
    items: list[str] = []
    for line in text.splitlines():
        if re.match(r"^\s*([-*]|\d+\.)\s+", line):
            items.append(line.strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items or [text]


def lesson_passages(lesson: Lesson, start_id: int = 0) -> list[Passage]:
    """Every passage of one lesson, in order. Misconception and self-check lists are split per item."""
    out: list[Passage] = []
    intro = lesson.body.split("\n## ", 1)[0]
    intro = "\n".join(line for line in intro.splitlines() if not line.startswith("# "))
    units: list[tuple[str, str, Role, str]] = [("", lesson.meta.title, "intro", b) for b in split_blocks(intro)]
    for section in lesson.sections:
        if section.level != 2:
            continue
        role = section_role(section.heading)
        for block in split_blocks(section.text):
            if block.startswith("#"):
                continue
            parts = split_bullets(block) if role in ("misconception", "selfcheck") else [block]
            units += [(section.anchor, section.heading, role, part) for part in parts]
    for order, (anchor, heading, role, text) in enumerate(units):
        out.append(Passage(start_id + order, lesson.source, lesson.meta.title, anchor, heading, role, text, order))
    return out


def _embed_text(p: Passage) -> str:
    return f"{p.lesson_title}. {p.heading}. {p.text}"


class PassageIndex:
    """All passages of the course with L2-normalised MiniLM vectors (cosine = dot product)."""

    def __init__(self, lessons: list[Lesson], cache_dir: Path | None = None) -> None:
        self.lessons = {lesson.source: lesson for lesson in lessons}
        self.order = [lesson.source for lesson in lessons]
        self.passages: list[Passage] = []
        for lesson in lessons:
            self.passages += lesson_passages(lesson, start_id=len(self.passages))
        self.by_lesson: dict[str, list[Passage]] = {}
        for p in self.passages:
            self.by_lesson.setdefault(p.lesson, []).append(p)
        self.cache_dir = cache_dir
        self._lock = threading.Lock()

    @cached_property
    def digest(self) -> str:
        h = hashlib.sha256()
        for p in self.passages:
            h.update(_embed_text(p).encode())
        return h.hexdigest()[:16]

    @cached_property
    def vectors(self) -> np.ndarray:
        from tutor.embeddings import cached_encode

        cache = self.cache_dir / f"passages-{self.digest}.npy" if self.cache_dir else None
        return cached_encode([_embed_text(p) for p in self.passages], cache)

    @cached_property
    def lesson_vectors(self) -> dict[str, np.ndarray]:
        """One vector per lesson: the normalised mean of its passages (for "related lessons")."""
        out = {}
        for source, passages in self.by_lesson.items():
            mean = self.vectors[[p.id for p in passages]].mean(axis=0)
            out[source] = mean / (np.linalg.norm(mean) or 1.0)
        return out

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word the course uses (lowercased), for spotting subjects it never mentions."""
        words: set[str] = set()
        for p in self.passages:
            text = f"{p.heading} {p.text}".lower()
            words |= set(re.findall(r"[a-z][a-z0-9+\-']*", text))
            words |= {w.strip("'") for w in re.findall(r"[a-z][a-z0-9]*", text)}
        return frozenset(words)

    @cached_property
    def sections_of_word(self) -> dict[str, frozenset[str]]:
        """Word (lowercased) -> the sections (citations) whose passages use it."""
        found: dict[str, set[str]] = {}
        for p in self.passages:
            text = f"{p.heading} {p.text}".lower()
            words = {w.strip("'-") for w in re.findall(r"[a-z][a-z0-9_+\-']*", text)}
            for word in words | set(re.findall(r"[a-z][a-z0-9]*", text)):
                found.setdefault(word, set()).add(p.citation)
        return {word: frozenset(sections) for word, sections in found.items()}

    def sections_using(self, word: str) -> frozenset[str]:
        """The sections that use a word, or its singular."""
        return self.sections_of_word.get(word) or self.sections_of_word.get(word.removesuffix("s"), frozenset())

    @cached_property
    def text(self) -> str:
        """The whole course text, lowercased (for phrases such as "repair and retry")."""
        return "\n".join(f"{p.heading} {p.text}".lower() for p in self.passages)

    @cached_property
    def teachable_ids(self) -> np.ndarray:
        """Rows of every passage except self-check questions (which ask rather than answer)."""
        return np.array([p.id for p in self.passages if p.role != "selfcheck"], dtype=np.int64)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        return self.vectors @ vector

    def lesson_title(self, source: str) -> str:
        lesson = self.lessons.get(source)
        return lesson.meta.title if lesson else source


_index: dict[str, PassageIndex] = {}
_index_lock = threading.Lock()


def get_passage_index(knowledge: Path | None = None, cache_dir: Path | None = None) -> PassageIndex:
    """One index per process and curriculum folder (lessons parsed once, vectors cached on disk)."""
    from tutor.paths import knowledge_dir

    root = knowledge or knowledge_dir()
    with _index_lock:
        if str(root) not in _index:
            _index[str(root)] = PassageIndex(load_lessons(root), cache_dir)
        return _index[str(root)]
