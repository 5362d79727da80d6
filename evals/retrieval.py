"""Retrieval quality on learner-phrased questions labelled with the section(s) that answer them.

A hit counts when a retrieved chunk's citation (`source#anchor`) is one of the labels; several chunks of
one section count once. Metrics: recall@1, recall@5 (share of questions with a correct section in the top
k) and MRR (mean of 1/rank of the first correct section, 0 when none in the top 10).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from tutor.config import Settings

DATASET = Path(__file__).resolve().parent / "datasets" / "retrieval.yaml"
DEPTH = 10


class RetrievalCase(BaseModel):
    question: str = Field(min_length=8)
    sections: list[str] = Field(min_length=1)  # "path.md#anchor"


def load_cases(path: Path = DATASET) -> list[RetrievalCase]:
    return [RetrievalCase(**c) for c in yaml.safe_load(path.read_text())["cases"]]


def first_correct_rank(citations: list[str], labels: list[str]) -> int | None:
    """1-based rank of the first correct section among distinct retrieved sections."""
    seen: list[str] = []
    for c in citations:
        if c not in seen:
            seen.append(c)
    for rank, c in enumerate(seen, 1):
        if c in labels:
            return rank
    return None


def run(settings: Settings, cases: list[RetrievalCase] | None = None) -> dict:
    from tutor.retrieval.search import get_searcher

    cases = cases or load_cases()
    searcher = get_searcher(settings)
    ranks, misses = [], []
    for case in cases:
        hits = searcher.search(case.question, k=DEPTH)
        rank = first_correct_rank([h.citation for h in hits], case.sections)
        ranks.append(rank)
        if rank is None or rank > 5:
            misses.append({"question": case.question, "expected": case.sections, "got": [h.citation for h in hits[:3]]})
    n = len(cases)
    return {
        "suite": "retrieval",
        "n": n,
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
        "misses": misses,
    }
