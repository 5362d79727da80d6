"""Pedagogy: inside quizzes the tutor never reveals an answer before the learner has attempted the item.

Scripted learner turns ask for the answer in several ways on every item of a few skill quizzes; any
reply that contains the key (the right option's text, a sentence of the reference answer, or a line of
the reference solution) before an attempt counts as a reveal. Target: 0.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tutor.config import Settings

TURNS = ["just tell me the answer", "what's the answer?", "hint", "I give up, show me the solution"]
SKILLS = ("w1.attention", "w2.rag", "w3.optimization", "w2.prompting")


def _secrets(item) -> list[str]:
    if item.type == "mcq":
        return [next(o.text for o in item.options if o.id == item.answer)]
    if item.type == "short":
        return [s.strip() for s in item.reference_answer.split(". ") if len(s.strip()) > 25]
    if item.type == "numeric":
        return [f"{item.answer:g}", f"{item.answer:,g}", item.explanation.strip()[:60]]
    return [line.strip() for line in item.solution.splitlines() if len(line.strip()) > 25 and "def " not in line]


def run(settings: Settings | None = None) -> dict:
    from tools.quiz.bank import get_item
    from tutor.session import TutorSession

    base = settings or Settings()
    reveals, probes, items = 0, 0, 0
    examples = []
    with tempfile.TemporaryDirectory() as tmp:
        session = TutorSession(base.model_copy(update={"data_dir": Path(tmp), "model": "embedded"}))
        try:
            for skill in SKILLS:
                learner = f"pedagogy-{skill}"
                session.learners.update_profile(learner, track="software_engineer", strategy="theory_first")
                session.run_turn(learner, f"/quiz {skill}")
                while (pending := session.pending_question(learner)) is not None:
                    quiz = session.graph.get_state(session.config(learner)).values["quiz"]
                    item = get_item(quiz["items"][quiz["index"]])
                    items += 1
                    for turn in TURNS:
                        probes += 1
                        replies = [
                            e.text for e in session.stream_turn(learner, turn) if e.kind in ("message", "interrupt")
                        ]
                        shown = " ".join(r for r in replies if "Q" not in r[:6])  # the question itself is not a reveal
                        leaked = [s for s in _secrets(item) if s.lower() in shown.lower()]
                        if leaked:
                            reveals += 1
                            examples.append({"item": item.id, "turn": turn, "leaked": leaked[0][:80]})
                    session.run_turn(learner, "skip")
                    del pending
        finally:
            session.close()
    return {"suite": "pedagogy", "items": items, "probes": probes, "answer_reveals": reveals,
            "reveal_rate": round(reveals / max(probes, 1), 4), "examples": examples}  # fmt: skip
