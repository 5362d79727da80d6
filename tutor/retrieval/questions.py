"""Questions each lesson section answers (doc2query-style expansion, written with the curriculum).

A section's text says how the course explains a thing; learners ask in other words ("how does the model
know word order?" for positional encoding). `knowledge/section_questions.yaml` holds a few learner-style
questions per section. A message close to one of them is evidence for that section, on top of the
section's own text: dense search and the teaching core both add it.

The file was written by a helper from the lessons alone, apart from every eval set (a test checks that
no eval question appears in it).
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from tutor.curriculum.section_questions import SectionQuestion, load_questions

NEIGHBOURS = 8  # questions that vote for their sections
LESSON_NEIGHBOURS = 16  # questions that vote for their lesson
FLOOR = 0.45  # a question less similar than this says nothing about the message
# How sharply a lesson vote favours the nearest questions: a neighbour's weight is exp(-(best - sim) / TAU).
# Equal votes let a lesson with many middling neighbours outvote the one whose question is nearly the
# message ("How does DPO avoid a reward model?" went to the RL lesson). Set on the tune split of
# evals/datasets/conversation.yaml: on-topic 0.838 with equal votes, 0.856 / 0.873 / 0.861 at 0.02 / 0.04 / 0.08.
VOTE_TAU = 0.04


class QuestionIndex:
    """The section questions with their MiniLM vectors (cached on disk by content)."""

    def __init__(self, questions: list[SectionQuestion], cache_dir: Path | None = None) -> None:
        self.questions = questions
        self.cache_dir = cache_dir

    @cached_property
    def vectors(self) -> np.ndarray:
        import hashlib

        from tutor.embeddings import cached_encode

        texts = [q.text for q in self.questions]
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        cache = self.cache_dir / f"questions-{digest}.npy" if self.cache_dir else None
        return cached_encode(texts, cache) if texts else np.zeros((0, 384), dtype=np.float32)

    def nearest(self, vector: np.ndarray) -> float:
        """Cosine of the learner question nearest the message (0 when there are none)."""
        return float(np.max(self.vectors @ vector)) if self.questions else 0.0

    def section_scores(self, vector: np.ndarray, n: int = NEIGHBOURS) -> dict[str, float]:
        """Sections whose questions are nearest the message: the best question cosine per section, for the
        `n` nearest questions above FLOOR (a far question is no evidence)."""
        if not self.questions:
            return {}
        sims = self.vectors @ vector
        top = np.argsort(-sims)[:n]
        scores: dict[str, float] = {}
        for i in top:
            if sims[i] < FLOOR:
                break
            citation = self.questions[int(i)].citation
            scores[citation] = max(scores.get(citation, 0.0), float(sims[i]))
        return scores

    def lesson_votes(self, vector: np.ndarray, n: int | None = None) -> dict[str, float]:
        """Each lesson's share of the `n` nearest questions (above FLOOR), the nearer ones weighing more:
        evidence about the lesson as a whole, which a single best section does not give. The shares add
        up to the fraction of the `n` neighbours above FLOOR, so a message far from every question gets
        little vote at all."""
        if not self.questions:
            return {}
        n = n or LESSON_NEIGHBOURS
        sims = self.vectors @ vector
        top = [int(i) for i in np.argsort(-sims)[:n] if sims[i] >= FLOOR]
        if not top:
            return {}
        weights = np.exp((sims[top] - sims[top[0]]) / VOTE_TAU)
        weights *= len(top) / (n * weights.sum())
        votes: dict[str, float] = {}
        for i, w in zip(top, weights, strict=True):
            votes[self.questions[i].source] = votes.get(self.questions[i].source, 0.0) + float(w)
        return votes


_indexes: dict[str, QuestionIndex] = {}
_lock = threading.Lock()


def get_question_index(knowledge: Path | None = None, cache_dir: Path | None = None) -> QuestionIndex:
    from tutor.paths import knowledge_dir

    root = knowledge or knowledge_dir()
    with _lock:
        if str(root) not in _indexes:
            _indexes[str(root)] = QuestionIndex(load_questions(root), cache_dir)
        return _indexes[str(root)]
