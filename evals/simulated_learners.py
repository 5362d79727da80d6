"""Simulated learners: one scripted learner per track goes through intake, two lessons and the Week 1
checkpoint quiz (answering with the keys), and the plan and mastery end state are checked."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tutor.config import Settings

SCRIPTS = {
    "software_engineer": ["Software engineer / developer", "I write production code daily",
                          "Used LLM APIs, not the internals", "Ship LLM features to production", "4-8 hours",
                          "Jump into code and learn as I go"],
    "data_scientist": ["Data scientist / analyst", "Comfortable in notebooks and scripts",
                       "Trained classic models (scikit-learn, XGBoost)", "Fine-tune, evaluate and compare models",
                       "8-15 hours", "Read the theory first"],
    "ml_researcher": ["ML researcher / academic", "Comfortable in notebooks and scripts",
                      "Deep learning in PyTorch/TensorFlow, read papers",
                      "Understand architectures deeply and do research", "15+ hours", "Read the theory first"],
    "product_manager": ["Product manager / business / founder", "A little", "None yet",
                        "Decide where LLMs create business value", "Under 4 hours", "Work towards a concrete project"],
}  # fmt: skip


def _key_answer(item) -> str:
    if item.type == "mcq":
        return item.answer
    if item.type == "short":
        return item.reference_answer
    if item.type == "numeric":
        return f"{item.answer:g}"
    return item.solution


def run(settings: Settings | None = None) -> dict:
    from tools.quiz.bank import get_item
    from tutor.learner.progress import LearnerModel
    from tutor.session import TutorSession

    base = settings or Settings()
    learners = []
    with tempfile.TemporaryDirectory() as tmp:
        session = TutorSession(base.model_copy(update={"data_dir": Path(tmp), "model": "embedded"}))
        model = LearnerModel(session.learners)
        try:
            for track, answers in SCRIPTS.items():
                lid = f"sim-{track}"
                session.run_turn(lid, "/start")
                for answer in answers:
                    session.run_turn(lid, answer)
                report = model.progress(lid)
                first_two = [n["path"] for n in (report["next"],)]
                for _ in range(2):  # read the next two lessons of the plan
                    nxt = model.progress(lid)["next"]
                    if nxt.get("path"):
                        model.mark(lid, nxt["path"])
                curve = [model.mastery_map(lid)["w1.attention"]]
                session.run_turn(lid, "/quiz week 1")
                while session.pending_question(lid) is not None:
                    quiz = session.graph.get_state(session.config(lid)).values["quiz"]
                    item = get_item(quiz["items"][quiz["index"]])
                    session.run_turn(lid, _key_answer(item))
                    curve.append(model.mastery_map(lid)["w1.attention"])
                end = model.progress(lid)
                week1 = {s: end["mastery"][s]["p_known"] for s in end["mastery"] if s.startswith("w1.")}
                checks = {
                    "placed_on_expected_track": end["profile"]["track"] == track,
                    "two_lessons_done": len(end["done"]) == 2,
                    "week1_mastery_rose": all(p > 0.15 for p in week1.values()),
                    "week1_checkpoint_passed": 1 in end["checkpoints_passed"],
                    "plan_position_reported": end["plan_position"] is not None,
                }
                learners.append({"track": track, "strategy": end["profile"]["strategy"], "first_item": first_two[0],
                                 "plan_position": end["plan_position"], "week1_mastery": week1,
                                 "attention_curve": [round(x, 3) for x in curve], "checks": checks,
                                 "ok": all(checks.values())})  # fmt: skip
        finally:
            session.close()
    return {"suite": "simulated_learners", "n": len(learners), "passed": sum(x["ok"] for x in learners),
            "learners": learners}  # fmt: skip
