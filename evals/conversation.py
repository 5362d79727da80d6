"""Conversation: multi-turn scenarios through the real graph; does each reply come from the right lesson?

The scenarios (datasets/conversation.yaml) were written from the curriculum by a helper who never read the
routing or teaching code. Each turn names the lessons a good answer must come from, or `outside`.
  on-topic   a course turn: every citation comes from one of the named lessons (and there is one);
             an outside turn: no citations and the reply says it is not covered / redirects
  move       the move the tutor made equals the labelled one (reported, not a goal)
The holdout third is never used for tuning and is reported separately. `--calibrate` prints the scope
scores of the tune split, which is what SCOPE_MIN in tutor/agent/teach.py was set from.
"""

from __future__ import annotations

import statistics
import sys
import uuid
from pathlib import Path

import yaml

from tutor.config import Settings

DATASET = Path(__file__).resolve().parent / "datasets" / "conversation.yaml"
# A second blind set (24 scenarios, 122 turns), written by another helper from the lessons alone in the session
# of 2026-12-02 and tuned on from then on; reported beside tune and holdout, not part of the goal.
DEV_DATASET = DATASET.with_name("conversation_dev.yaml")
# A third blind set (24 scenarios, 128 turns) by another helper, 2026-12-02 late: first measured untuned (0.750),
# tuned on from 2026-12-03 (asides, bare quiz requests, long descriptions of the learner's setting). Its
# writer used `lessons: []` with move `outside` (not covered) or `chat` (greetings, thanks); read as below.
DEV2_DATASET = DATASET.with_name("conversation_dev2.yaml")
DEV2_MOVES = {"outside": "out_of_scope", "chat": "chat"}
# A fourth blind set (24 scenarios, 128 turns) by another helper, 2026-12-04: first measured untuned (0.703),
# then tuned on (the learned move reader, "test me on this stuff", "what's the lesson after it"); some of its
# missed phrasings were quoted to the writer of the move examples, so its later figure is not blind. Same schema
# as dev2, with moves out_of_scope / chat for `lessons: []`.
DEV3_DATASET = DATASET.with_name("conversation_dev3.yaml")
GOAL = 0.9
OUTSIDE_WORDS = ("does not cover", "outside what i can help")


def load(split: str | None = None) -> list[dict]:
    """Scenarios of one split (tune, holdout, dev, dev2, dev3), or of tune and holdout (the goal's two sets)."""
    if split == "dev":
        return yaml.safe_load(DEV_DATASET.read_text())["scenarios"]
    if split in ("dev2", "dev3"):
        scenarios = yaml.safe_load((DEV2_DATASET if split == "dev2" else DEV3_DATASET).read_text())["scenarios"]
        for scenario in scenarios:
            for turn in scenario["turns"]:
                if not turn["lessons"]:
                    turn["lessons"] = "chat" if turn["move"] == "chat" else "outside"
                turn["move"] = DEV2_MOVES.get(turn["move"], turn["move"])
        return scenarios
    scenarios = yaml.safe_load(DATASET.read_text())["scenarios"]
    return [s for s in scenarios if split is None or s["split"] == split]


def judge(turn: dict, result: dict) -> bool:
    cited = {c["source"] for c in result["citations"] if c.get("source")}
    if turn["lessons"] == "chat":  # small talk: answered without pretending to quote the course
        return not cited
    if turn["lessons"] == "outside":
        return not cited and any(w in result["answer"].lower() for w in OUTSIDE_WORDS)
    return bool(cited) and cited <= set(turn["lessons"])


def play(session, scenario: dict) -> list[dict]:
    learner = f"conv-{scenario['id']}-{uuid.uuid4().hex[:6]}"
    session.learners.update_profile(learner, track=scenario.get("track", "data_scientist"), strategy="theory_first")
    rows = []
    for turn in scenario["turns"]:
        result = session.run_turn(learner, turn["say"])
        move = result.get("move", "")
        rows.append({"say": turn["say"], "expected": turn["lessons"], "move": turn["move"], "got_move": move,
                     "cited": [c["source"] for c in result["citations"]], "ok": judge(turn, result),
                     "chars": len(result["answer"]), "error": result.get("error")})  # fmt: skip
    return rows


def summarize(rows: list[dict]) -> dict:
    n = len(rows)
    explain_chars = [r["chars"] for r in rows if r["move"] in ("explain", "simpler", "why", "example")]
    return {
        "turns": n,
        "on_topic": round(sum(r["ok"] for r in rows) / n, 4) if n else 0.0,
        "move_accuracy": round(sum(r["got_move"] == r["move"] for r in rows) / n, 4) if n else 0.0,
        "median_explanation_chars": int(statistics.median(explain_chars)) if explain_chars else 0,
        "errors": sum(bool(r["error"]) for r in rows),
    }


def run(settings: Settings | None = None, session=None) -> dict:
    from tutor.session import TutorSession

    own = session is None
    session = session or TutorSession((settings or Settings()).model_copy(update={"model": "embedded"}))
    results: dict[str, list[dict]] = {"tune": [], "holdout": [], "dev": [], "dev2": [], "dev3": []}
    try:
        for scenario in [*load(), *load("dev"), *load("dev2"), *load("dev3")]:
            results[scenario["split"]] += play(session, scenario)
    finally:
        if own:
            session.close()
    tune, holdout = summarize(results["tune"]), summarize(results["holdout"])
    misses = [r for r in results["tune"] if not r["ok"]]  # the holdout's stay unseen: never tuned on
    return {
        "suite": "conversation",
        "provider": "embedded (teaching core; the model only for small talk)",
        "scenarios": len(load()),
        "tune": tune,
        "holdout": holdout,
        "dev": summarize(results["dev"]),
        "dev2": summarize(results["dev2"]),
        "dev3": summarize(results["dev3"]),
        "on_topic": tune["on_topic"],
        "goal": GOAL,
        "passed": tune["on_topic"] >= GOAL and holdout["on_topic"] >= GOAL,
        "median_explanation_chars": summarize(results["tune"] + results["holdout"])["median_explanation_chars"],
        "misses": misses[:60],
    }


def calibrate() -> None:
    """Scope scores of first-turn and outside turns of the tune split (what SCOPE_MIN was chosen from)."""
    from tutor.agent.teach import encode
    from tutor.teaching.moves import scope_score
    from tutor.teaching.passages import get_passage_index

    index = get_passage_index()
    inside, outside = [], []
    for scenario in load("tune"):
        for turn in scenario["turns"]:
            score = scope_score(index, encode(turn["say"]))
            (outside if turn["lessons"] == "outside" else inside).append((round(score, 3), turn["say"]))
    print("outside:", sorted(outside, reverse=True)[:12])
    print("inside (lowest):", sorted(inside)[:15])


if __name__ == "__main__":
    if "--calibrate" in sys.argv:
        calibrate()
    else:
        import json

        print(json.dumps(run(), indent=1))
