"""Placement accuracy on written background descriptions (`tutor place` applied to each)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tutor.config import Settings

DATASETS = Path(__file__).resolve().parent / "datasets"
DATASET = DATASETS / "placement.yaml"
HOLDOUT = DATASETS / "placement_holdout.yaml"  # written after the keyword cues were tuned on DATASET


def run(settings: Settings | None = None) -> dict:
    result = _score(DATASET)
    if HOLDOUT.exists():
        held = _score(HOLDOUT)
        result["holdout"] = {k: held[k] for k in ("n", "accuracy", "ambiguous_accuracy")}  # misses stay unseen
    return result


def _score(path: Path) -> dict:
    from tutor.learner.placement import place_text

    cases = yaml.safe_load(path.read_text())["cases"]
    right = strategy_total = strategy_right = ambiguous_total = ambiguous_right = 0
    misses = []
    for case in cases:
        placement = place_text(case["text"])
        ok = placement.track == case["track"]
        right += ok
        if case.get("ambiguous"):
            ambiguous_total += 1
            ambiguous_right += ok
        if case.get("strategy"):
            strategy_total += 1
            strategy_right += placement.strategy == case["strategy"]
        if not ok:
            misses.append({"text": case["text"], "expected": case["track"], "got": placement.track})
    n = len(cases)
    return {
        "suite": "placement",
        "n": n,
        "accuracy": round(right / n, 4),
        "ambiguous_accuracy": round(ambiguous_right / max(ambiguous_total, 1), 4),
        "strategy_accuracy": round(strategy_right / max(strategy_total, 1), 4),
        "misses": misses,
    }
