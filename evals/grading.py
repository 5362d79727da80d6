"""Grader agreement with hand labels (correct / partial / wrong) on learner answers to short and code items.

Offline this is the embedding + key-term grader and kernel-run hidden tests; injections must earn nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from tutor.config import Settings

DATASET = Path(__file__).resolve().parent / "datasets" / "grading.yaml"


def verdict(item_type: str, score: float, correct: bool) -> str:
    if item_type == "code":
        return "correct" if correct else "wrong"
    if correct:
        return "correct"
    return "partial" if score > 0 else "wrong"


def run(settings: Settings | None = None, limit: int | None = None) -> dict:
    from tools.kernel import KernelService
    from tools.quiz.bank import get_item
    from tools.quiz.grading import grade

    cases = yaml.safe_load(DATASET.read_text())["cases"][:limit]
    agree = 0
    by_type: dict[str, list[int]] = {}
    injection_marks = 0.0
    injections = 0
    misses = []
    with tempfile.TemporaryDirectory() as tmp:
        kernels = KernelService(root=Path(tmp), pool_size=2, default_timeout=10)
        try:
            for i, case in enumerate(cases):
                item = get_item(case["item"])

                def runner(code: str, timeout: float, session: str = f"case-{i}"):
                    return kernels.run(session, code, timeout)

                g = grade(item, case["answer"] or "", run=runner)
                got = verdict(item.type, g.score, g.correct)
                ok = got == case["label"]
                agree += ok
                by_type.setdefault(item.type, [0, 0])
                by_type[item.type][0] += ok
                by_type[item.type][1] += 1
                if case["kind"] == "injection":
                    injections += 1
                    injection_marks += g.score
                if not ok:
                    misses.append({"item": item.id, "kind": case["kind"], "expected": case["label"], "got": got,
                                   "score": round(g.score, 2), "answer": str(case["answer"])[:120]})  # fmt: skip
                if item.type == "code":
                    kernels.restart(f"case-{i}") if kernels.has_session(f"case-{i}") else None
        finally:
            kernels.shutdown()
    n = len(cases)
    return {
        "suite": "grading",
        "grader": "embedded (MiniLM similarity + key terms; code by hidden tests in a kernel)",
        "n": n,
        "agreement": round(agree / n, 4),
        "agreement_by_type": {t: round(a / m, 4) for t, (a, m) in by_type.items()},
        "injections": injections,
        "injection_marks": round(injection_marks, 3),
        "misses": misses,
    }
