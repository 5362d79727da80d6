"""The intake conversation: up to six interrupt-driven questions, then a deterministic placement."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from tutor.agent.context import Context
from tutor.agent.state import TutorState
from tutor.learner.placement import QUESTIONS, TRACK_NAMES, match_option, score
from tutor.learner.plan import build_plan, weeks_needed
from tutor.learner.progress import LearnerModel

INTRO = (
    "Welcome! Six quick questions so I can pick your track and plan "
    "(click an option or type your own answer; `skip` skips a question)."
)


def placement_message(profile: dict, learner_id: str, model: LearnerModel) -> str:
    track, strategy = profile["track"], profile["strategy"]
    plan = build_plan(track, strategy, profile.get("hours_per_week"))
    first = next((b for b in plan if b.items), plan[0])
    reasons = "\n".join(f"- {r}" for r in profile.get("reasons", []))
    pace = weeks_needed(plan, profile.get("hours_per_week"))
    pace_line = f"\nAt your pace the plan takes about **{pace} weeks**." if pace else ""
    nxt = model.progress(learner_id)["next"]["text"]
    return (
        f"**Your track: {TRACK_NAMES[track]}** · strategy **{strategy.replace('_', '-')}** "
        f"(confidence {profile.get('confidence', 0):.0%})\n\n{reasons}\n\n"
        f"Your plan starts with **{first.label}: {first.title}**.{pace_line}\n\n**Next:** {nxt}\n\n"
        "Optional: `/quiz diagnostic` (5 questions) raises your starting mastery for what you already know.\n\n"
        "Not right? `/track data_scientist` (or software_engineer, ml_researcher, product_manager) and "
        "`/strategy practice_first` change it at any time."
    )


def intake(state: TutorState, runtime: Runtime[Context]) -> dict:
    learner_id = state.get("learner_id") or "local"
    model = LearnerModel(runtime.context.learners)
    answers: dict[str, str] = {}
    transcript: list = [AIMessage(INTRO)]
    for step, q in enumerate(QUESTIONS, 1):
        prompt = f"({step}/{len(QUESTIONS)}) {q.prompt}"
        while True:
            asked = [m.text for m in transcript[1:]]  # this intake so far, so the page can show it again
            reply = interrupt(
                {"kind": "intake", "question": prompt, "options": [o.label for o in q.options], "intro": INTRO,
                 "asked": asked}
            )  # fmt: skip
            text = str(reply or "").strip()[:500]
            if text.lower() in ("skip", "/skip", ""):
                option = None
                break
            option, _similarity = match_option(q.id, text)
            if option:
                break
            prompt = f"I couldn't match “{text[:60]}” to an option. {q.prompt} Pick one, or type skip."
        transcript += [AIMessage(prompt), HumanMessage(text or "skip")]
        if option:
            answers[q.id] = option
    placement = score(answers)
    profile = model.save_placement(learner_id, placement, answers)
    return {"messages": [*transcript, AIMessage(placement_message(profile, learner_id, model))]}
