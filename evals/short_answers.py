"""Short-answer grading a learner can trust: fluent wrong answers must fail, correct paraphrases must pass.

The 261 labelled answers (datasets/grading_v2.yaml) were written by a helper who never read the grader:
fluent wrong answers that reuse the key vocabulary (swapped roles, negations, wrong numbers and directions,
the lessons' misconceptions, injections), correct paraphrases that do not copy the reference (terse ones,
worked examples, answers quoting injection text), and partial ones. A third is held out: the grader's
thresholds (tools/quiz/grading.py) were set on the tune split only. Offline grader (no chat model).

Each rubric point is met, missed or left to the learner (the similarity proves nothing either way). An answer
whose grade depends on the points left to the learner is neither passed nor failed by the grader: the learner
sees the reference and judges (recorded as self-assessed, weaker evidence for mastery).
  wrong_passed      wrong answers the grader passed by itself                    goal <= 0.05
  correct_passed    correct answers passed by the grader or left to the learner  goal >= 0.85
                    (an honest learner holding the reference passes them)
  answers_left_to_learner   share of all answers whose grade the learner decides  goal <= 0.25 (the price)
The thresholds LOW_* / SURE_* and CORRECT_AT were chosen by a grid on the tune split: the point meeting all
three goals with a margin to the wrong-answer cliff (SURE_KEYED 0.58 lets 0.056 of wrong answers pass).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tutor.config import Settings

DATASET = Path(__file__).resolve().parent / "datasets" / "grading_v2.yaml"
# A second blind set (130 answers: 75 fluent wrong ones, mostly the reference with one detail changed, and 55
# correct ones), by another helper on 2026-12-04; first measured untuned (wrong passed 0.60), tuned on since.
# Reported beside tune and holdout, not part of the goal.
DEV_DATASET = DATASET.with_name("grading_dev.yaml")
GOALS = {"wrong_passed": 0.05, "correct_passed": 0.85, "answers_left_to_learner": 0.25}


def load(split: str | None = None) -> list[dict]:
    if split == "dev":
        return yaml.safe_load(DEV_DATASET.read_text())["answers"]
    answers = yaml.safe_load(DATASET.read_text())["answers"]
    return [a for a in answers if split is None or a["split"] == split]


def score(cases: list[dict]) -> dict:
    from tools.quiz.bank import get_item
    from tools.quiz.grading import grade

    rows = []
    for case in cases:
        item = get_item(case["item"])
        g = grade(item, case["answer"])
        rows.append({**case, "passed": g.correct, "pending": bool(g.details.get("decides")),
                     "score": round(g.score, 3), "self_assess": len(g.details.get("self_assess", [])),
                     "points": len(item.rubric)})  # fmt: skip

    def rate(label: str, key=lambda r: r["passed"]) -> float:
        group = [r for r in rows if r["label"] == label]
        return round(sum(bool(key(r)) for r in group) / len(group), 4) if group else 0.0

    kinds = sorted({r["kind"] for r in rows})
    by_kind = {k: round(sum(r["passed"] for r in rows if r["kind"] == k) / sum(r["kind"] == k for r in rows), 3)
               for k in kinds}  # fmt: skip
    points = sum(r["points"] for r in rows)
    return {
        "n": len(rows),
        "wrong_passed": rate("wrong"),  # the grader passed it by itself
        "wrong_left_to_learner": rate("wrong", lambda r: r["pending"]),
        # a correct answer left to the learner passes when the learner, holding the reference, says so
        "correct_passed": rate("correct", lambda r: r["passed"] or r["pending"]),
        "correct_passed_by_grader": rate("correct"),
        "partial_passed": rate("partial"),
        "answers_left_to_learner": round(sum(r["pending"] for r in rows) / len(rows), 4) if rows else 0.0,
        "self_assessed_share": round(sum(r["self_assess"] for r in rows) / points, 4) if points else 0.0,
        "passed_by_kind": by_kind,
        "misses": [
            {k: r[k] for k in ("item", "kind", "label", "score", "pending")} | {"answer": r["answer"][:140]}
            for r in rows
            if (r["label"] == "wrong" and r["passed"])
            or (r["label"] == "correct" and not (r["passed"] or r["pending"]))
        ],
    }


def run(settings: Settings | None = None) -> dict:
    tune, holdout, dev = score(load("tune")), score(load("holdout")), score(load("dev"))
    met = all(
        split["wrong_passed"] <= GOALS["wrong_passed"]
        and split["correct_passed"] >= GOALS["correct_passed"]
        and split["answers_left_to_learner"] <= GOALS["answers_left_to_learner"]
        for split in (tune, holdout)
    )
    return {
        "suite": "short_answers",
        "grader": "offline (MiniLM similarity + key terms + per-point numbers, role links, false variants)",
        "n": tune["n"] + holdout["n"],
        "tune": {k: v for k, v in tune.items() if k != "misses"},
        "holdout": {k: v for k, v in holdout.items() if k != "misses"},
        "dev": {k: v for k, v in dev.items() if k != "misses"},
        "goals": GOALS,
        "passed": met,
        "misses": tune["misses"],  # the holdout's stay unseen: never tuned on
    }


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) > 1 and sys.argv[1] in ("tune", "holdout", "dev"):
        result = score(load(sys.argv[1]))
        print(json.dumps({k: v for k, v in result.items() if k != "misses"}, indent=1))
        if sys.argv[1] != "holdout":  # misses are printed for the tuning splits only: the holdout is never studied
            for miss in result["misses"]:
                print(miss)
    else:
        print(json.dumps({k: v for k, v in run().items() if k != "misses"}, indent=1))
