"""Quizzes in the graph: start -> ask (interrupt) -> grade -> feedback -> ... -> result.

Each question is one run of `quiz_ask`, which interrupts *first* and only grades after the learner has
answered, so resuming never re-grades (or re-runs code). `hint`, `skip` and `stop` work at any point;
a stopped quiz is kept (resume or discard); quiz state belongs to one attempt id and is replaced by the
next quiz. Answer keys, rubrics and hidden tests never reach a prompt before grading.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from tools.quiz.bank import get_item, public_view, skill_of
from tools.quiz.grading import CORRECT_AT, check_answer_input, grade
from tools.quiz.selection import select_checkpoint, select_diagnostic, select_skill
from tutor.agent.context import Context
from tutor.agent.state import TutorState
from tutor.curriculum.schema import SKILLS
from tutor.learner.plan import checkpoint_status
from tutor.learner.progress import LearnerModel

REVEAL_REQUEST = re.compile(
    r"(tell|give|show) me (the )?(answer|solution)|what('s| is) the (answer|solution)|i give up|just answer",
    re.IGNORECASE,
)
QUIZ_REQUEST = re.compile(r"^\s*(/quiz\b|(please\s+)?(quiz|test)\s+me\b)", re.IGNORECASE)
CONTROL = {"hint", "skip", "stop"}
READ_ONLY_COMMANDS = ("/progress", "/next", "/help", "/lesson")  # answered without leaving the quiz
QUESTION = re.compile(
    r"\?\s*$|^\s*(what|why|how|when|where|which|who|can you|could you|would you|explain|tell me|show me|"
    r"is (it|this|that)|are (you|they)|do (you|i)|does|am i)\b",
    re.IGNORECASE,
)


def not_an_answer(text: str, item_type: str) -> str | None:
    """ "command" or "question" for a message that is not an answer to the current item, else None. Code
    is never a question (it may end in `?`); a multiple-choice answer starting with an option id never is."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return "command"
    from tutor.agent.intents import looks_like_code

    if re.fullmatch(r"\(?[a-dA-D][).:]?(\s.*)?", stripped, re.DOTALL):
        return None
    if item_type == "code" and (looks_like_code(stripped) or "\n" in stripped):
        return None
    if QUESTION.search(stripped) and len(stripped.split()) <= 30:
        return "question"
    return None


def parse_request(text: str) -> dict[str, Any]:
    """/quiz [week N | <skill> | diagnostic | resume | discard], or "quiz me on week 2 / on rag"."""
    lower = text.lower()
    if re.search(r"\bresume\b", lower):
        return {"action": "resume"}
    if re.search(r"\bdiscard\b", lower):
        return {"action": "discard"}
    if "diagnostic" in lower:
        return {"action": "start", "kind": "diagnostic"}
    week = re.search(r"\bweek\s*([123])\b|\bw([123])\b(?!\.)", lower)
    for skill in SKILLS:
        name = skill.split(".", 1)[1]
        if skill in lower or re.search(rf"\b{re.escape(name.replace('_', ' '))}\b", lower) or name in lower:
            return {"action": "start", "kind": "skill", "skill": skill}
    if week:
        return {"action": "start", "kind": "checkpoint", "week": int(week.group(1) or week.group(2))}
    return {"action": "start", "kind": "checkpoint", "week": None}


def quiz_start(state: TutorState, runtime: Runtime[Context]) -> dict:
    learner_id = state.get("learner_id") or "local"
    model = LearnerModel(runtime.context.learners)
    command = state.get("command") or ""
    request = topic_request(command, runtime.context) if command.startswith("/quiz topic ") else None
    request = request or parse_request(command if command.startswith("/quiz") else _last_text(state))
    current = state.get("quiz") or {}
    if request["action"] == "resume":
        if current.get("status") == "paused":
            return {"quiz": {**current, "status": "active"}, "messages": [AIMessage("Resuming your quiz.")]}
        return {"quiz": current, "messages": [AIMessage("There is no paused quiz to resume. Start one with /quiz.")]}
    if request["action"] == "discard":
        return {"quiz": {}, "messages": [AIMessage("Quiz discarded.")]}
    mastery = model.mastery_map(learner_id)
    attempts = model.store.attempts(learner_id)
    if request["kind"] == "skill":
        items = select_skill(request["skill"], attempts)
        title = f"Skill quiz: {request['skill']}"
    elif request["kind"] == "diagnostic":
        items = select_diagnostic()
        title = "Diagnostic (5 questions; right answers raise your starting mastery)"
    else:
        week = request["week"] or _current_week(model, learner_id)
        items = select_checkpoint(week, mastery, attempts)
        request["week"] = week
        title = f"Week {week} checkpoint quiz"
    quiz = {
        "id": uuid.uuid4().hex[:12],
        "kind": request["kind"],
        "week": request.get("week"),
        "skill": request.get("skill"),
        "items": [i.id for i in items],
        "index": 0,
        "hinted": False,
        "results": [],
        "status": "active",
    }
    intro = f"**{title}** · {len(items)} questions. Type `hint`, `skip` or `stop` at any time."
    citations = []
    if request.get("lesson"):
        intro = (
            f"**{title}** (you asked about *{request['topic']}*, taught in `{request['lesson']}`) · "
            + intro.split(" · ", 1)[1]
        )
        citations = [{"source": request["lesson"], "heading": request["topic"], "anchor": ""}]
    return {"quiz": quiz, "messages": [AIMessage(intro, additional_kwargs={"citations": citations, "move": "quiz"})]}


def topic_request(command: str, ctx: Context) -> dict[str, Any] | None:
    """ "/quiz topic few-shot prompting": a skill quiz on the skill of the lesson that teaches the topic."""
    from tutor.agent.teach import encode, passage_index, section_bonus
    from tutor.teaching.moves import select

    topic = command.removeprefix("/quiz topic ").strip()
    index = passage_index(ctx)
    lead = select(index, encode(topic), "explain", section_bonus=section_bonus(topic, ctx)).lead
    skills = index.lessons[lead.lesson].meta.skills if lead else []
    if not skills:
        return None
    return {"action": "start", "kind": "skill", "skill": skills[0], "lesson": lead.lesson, "topic": topic}


def _current_week(model: LearnerModel, learner_id: str) -> int:
    position = model.progress(learner_id).get("plan_position") or "Week 1"
    found = re.search(r"Week (\d)", position)
    return int(found.group(1)) if found else 1


def _last_text(state: TutorState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def question_payload(quiz: dict) -> dict[str, Any]:
    item = get_item(quiz["items"][quiz["index"]])
    view = public_view(item)
    n = len(quiz["items"])
    header = f"**Q{quiz['index'] + 1}/{n}** · `{view['skill']}` · {item.type}"
    text = f"{header}\n\n{view['prompt'].strip()}"
    if item.type == "code":
        text += f"\n\n```python\n{view['starter_code'].rstrip()}\n```\nReply with your code (a ```python block)."
    if item.type == "numeric":
        unit = f" in {item.unit}" if item.unit else ""
        text += f"\n\nReply with a number{unit}; you may show your working, the last number you write counts."
    options = [f"{o['id']}) {o['text']}" for o in view["options"]]
    if options:
        text += "\n\n" + "\n".join(f"- {o}" for o in options)
    return {"kind": "quiz", "question": text, "options": options, "item_type": item.type, "quiz_id": quiz["id"]}


SELF_ANSWERS = {"yes": 1.0, "y": 1.0, "partly": 0.5, "partially": 0.5, "some": 0.5, "no": 0.0, "n": 0.0}


def self_check_payload(quiz: dict) -> dict:
    pending = quiz["self_check"]
    points = "\n".join(f"- {p}" for p in pending["points"])
    text = (f"Your turn to judge (I cannot check this reliably offline). Compare your answer with the reference "
            f"above: did it make {'this point' if len(pending['points']) == 1 else 'these points'}?\n{points}\n\n"
            "Answer **yes**, **partly** or **no**.")  # fmt: skip
    return {"kind": "quiz", "question": text, "options": ["yes", "partly", "no"], "item_type": "self",
            "quiz_id": quiz["id"]}  # fmt: skip


def record_self_check(state: TutorState, quiz: dict, text: str, ctx: Context) -> dict:
    """The learner's own verdict on the points the grader could not check: the attempt is recorded with
    it, as weaker evidence for mastery (item type `self`)."""
    pending = quiz["self_check"]
    said = [AIMessage(self_check_payload(quiz)["question"]), HumanMessage(text[:200])]
    share = SELF_ANSWERS.get(text.strip().lower().rstrip(".!"))
    if share is None:
        return {"quiz": quiz, "messages": [*said, AIMessage("Please answer yes, partly or no.")]}
    score = (pending["earned"] + share * pending["self_weight"]) / pending["total_weight"]
    correct = score >= CORRECT_AT
    item = get_item(pending["item"])
    LearnerModel(ctx.learners).record_answer(
        state.get("learner_id") or "local", item.id, skill_of(item), "self", correct, score, quiz["hinted"],
        pending["answer"], quiz["id"],
    )  # fmt: skip
    quiz = {k: v for k, v in quiz.items() if k != "self_check"}
    quiz["results"] = [*quiz["results"], {"item": item.id, "skill": skill_of(item), "score": score,
                                          "correct": correct, "skipped": False, "self_assessed": True}]  # fmt: skip
    mark = "✅" if correct else ("🟡" if score > 0 else "❌")
    return {**_advance(quiz), "messages": [*said, AIMessage(f"{mark} Recorded as self-assessed: {score:.0%}.")]}


def quiz_ask(state: TutorState, runtime: Runtime[Context]) -> dict:
    quiz = dict(state["quiz"])
    if quiz.get("self_check"):
        answer = interrupt(self_check_payload(quiz))
        return record_self_check(state, quiz, answer if isinstance(answer, str) else str(answer or ""),
                                 runtime.context)  # fmt: skip
    payload = question_payload(quiz)
    answer = interrupt(payload)  # nothing happens before the learner answers
    text = answer if isinstance(answer, str) else str(answer or "")
    control = text.strip().lower()
    item = get_item(quiz["items"][quiz["index"]])
    # the question goes into the conversation with its answer, so a reload shows both
    said = [AIMessage(payload["question"]), HumanMessage(text if len(text) < 2000 else text[:2000] + " …")]
    if control == "stop":
        quiz["status"] = "paused"
        note = "Quiz paused. `/quiz resume` continues where you left off; `/quiz discard` drops it."
        return {"quiz": quiz, "messages": [*said, AIMessage(note)]}
    if REVEAL_REQUEST.search(control) and len(control) < 80:  # Socratic inside quizzes: no answer before a try
        quiz["hinted"] = True
        note = f"I won't give the answer before you have tried, but here is a hint: 💡 {item.hint}"
        return {"quiz": quiz, "messages": [*said, AIMessage(note)]}
    if control == "hint":
        quiz["hinted"] = True
        return {"quiz": quiz, "messages": [*said, AIMessage(f"💡 {item.hint}")]}
    if control == "skip":
        quiz["results"] = [*quiz["results"], {"item": item.id, "skill": skill_of(item), "skipped": True}]
        return {**_advance(quiz), "messages": [*said, AIMessage("Skipped.")]}
    problem = check_answer_input(text)
    if problem:
        return {"quiz": quiz, "messages": [AIMessage(problem)]}
    learner_id = state.get("learner_id") or "local"
    ctx = runtime.context
    aside = not_an_answer(text, item.type)
    if aside:  # handled, never graded: no attempt, no change in mastery
        return {"quiz": quiz, "messages": [*said, AIMessage(aside_reply(aside, text, learner_id, ctx))]}

    def run(code: str, timeout: float):
        from tools.run_code import kernels_of

        return kernels_of(ctx).run(learner_id, code, timeout)

    result = grade(item, text, run=run, model=None if ctx.embedded else ctx.model)
    if result.details.get("invalid"):
        return {"quiz": quiz, "messages": [*said, AIMessage(result.feedback)]}
    if result.details.get("decides"):  # points the grader cannot check decide the grade: the learner judges
        d = result.details  # them against the reference before anything is recorded
        quiz["self_check"] = {"item": item.id, "points": d["self_assess"], "answer": text[:4000],
                              "earned": d["earned_weight"], "self_weight": d["self_weight"],
                              "total_weight": d["total_weight"]}  # fmt: skip
        return {"quiz": quiz, "messages": [*said, AIMessage(f"📝 {result.feedback}")]}
    LearnerModel(ctx.learners).record_answer(
        learner_id, item.id, skill_of(item), item.type, result.correct, result.score, quiz["hinted"], text, quiz["id"]
    )
    quiz["results"] = [
        *quiz["results"],
        {"item": item.id, "skill": skill_of(item), "score": result.score, "correct": result.correct, "skipped": False},
    ]
    mark = "✅" if result.correct else ("🟡" if result.score > 0 else "❌")
    return {**_advance(quiz), "messages": [*said, AIMessage(f"{mark} {result.feedback}")]}


def aside_reply(kind: str, text: str, learner_id: str, ctx: Context) -> str:
    """What the learner gets for a command or a question typed during a quiz."""
    from tutor.agent.commands import run_command

    back = "The quiz is still open on the same question: answer it, or type `hint`, `skip` or `stop`."
    if kind == "question":
        return f"That looked like a question, so I did not grade it. Ask it after the quiz (`stop` pauses it). {back}"
    name = text.strip().split()[0].lower()
    if name in READ_ONLY_COMMANDS:
        reply, _citations = run_command(text.strip(), learner_id, ctx.learners, ctx.kernels)
        return f"{reply}\n\n*(Not graded.)* {back}"
    return f"`{name}` waits until the quiz is paused (type `stop`, then `{name}`); I did not grade it. {back}"


def _advance(quiz: dict) -> dict:
    quiz = {**quiz, "index": quiz["index"] + 1, "hinted": False}
    if quiz["index"] >= len(quiz["items"]):
        quiz["status"] = "finished"
    return {"quiz": quiz}


def after_ask(state: TutorState) -> Literal["quiz_ask", "quiz_finish", "__end__"]:
    status = (state.get("quiz") or {}).get("status")
    if status == "active":
        return "quiz_ask"
    return "quiz_finish" if status == "finished" else END


def after_start(state: TutorState) -> Literal["quiz_ask", "__end__"]:
    quiz = state.get("quiz") or {}
    return "quiz_ask" if quiz.get("status") == "active" and quiz.get("items") else END


def quiz_finish(state: TutorState, runtime: Runtime[Context]) -> dict:
    quiz = state["quiz"]
    learner_id = state.get("learner_id") or "local"
    model = LearnerModel(runtime.context.learners)
    per_skill: dict[str, list[float]] = {}
    for r in quiz["results"]:
        per_skill.setdefault(r["skill"], []).append(0.0 if r.get("skipped") else r["score"])
    answered = [s for scores in per_skill.values() for s in scores]
    overall = sum(answered) / len(answered) if answered else 0.0
    lines = [f"**Quiz finished: {overall:.0%}**", ""]
    lines += [f"- `{skill}`: {sum(s) / len(s):.0%} ({len(s)} questions)" for skill, s in sorted(per_skill.items())]
    if quiz["kind"] == "checkpoint" and quiz.get("week"):
        week = quiz["week"]
        profile = model.profile(learner_id)
        scores = dict(profile.get("checkpoint_scores", {}))
        covered = {s for s in per_skill if s.startswith(f"w{week}.")}
        if len(covered) == 4:  # a checkpoint score counts only for a quiz covering all four skills
            scores[str(week)] = max(overall, scores.get(str(week), 0.0))
            model.store.update_profile(learner_id, checkpoint_scores=scores)
        status = checkpoint_status(model.mastery_map(learner_id), {int(k): v for k, v in scores.items()})[week]
        lines += ["", f"**Week {week} checkpoint {'passed ✅' if status['passed'] else 'not passed yet'}**"]
        lines += [f"- {'☑' if i['mastered'] else '☐'} {i['checklist']}" for i in status["checklist"]]
        lines.append("\nRule: every skill mastered (P ≥ 0.95) or at least 80% on a checkpoint quiz covering all four.")
    mastery = model.mastery_map(learner_id)
    lines += ["", "Mastery now: " + ", ".join(f"`{s}` {mastery[s]:.0%}" for s in sorted(per_skill))]
    return {"quiz": {**quiz, "status": "done"}, "messages": [AIMessage("\n".join(lines))]}
