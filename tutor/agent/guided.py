"""A guided lesson: the lesson section by section, each with a short explanation and a check question.

Right answer: the section is done and the next one starts. Wrong answer: the same idea again through a
different move (the plainest paragraph of the section, or the lesson's intuition), and a second question;
a second miss shows the answer and moves on. Progress (sections done per lesson) is kept in the learner's
profile, so the sidebar shows it and a later visit continues where the learner stopped.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tutor.agent.checks import bank_check, cloze_check, format_check
from tutor.agent.context import Context
from tutor.teaching.moves import TEACHABLE, extend, rank
from tutor.teaching.passages import PassageIndex

CONTROL = re.compile(
    r"^\s*(next|continue|go on|skip|move on|stop|end|quit|pause)( the lesson| lesson)?\s*[.!]*\s*$", re.I
)


def sections(index: PassageIndex, lesson: str) -> list[str]:
    """Anchors of the lesson's teachable sections, in order (intro first when the lesson has one)."""
    return list(dict.fromkeys(p.anchor for p in index.by_lesson.get(lesson, []) if p.role in TEACHABLE))


def find_guided_lesson(index: PassageIndex, text: str, vector_of) -> str | None:
    """The lesson a "teach me X" / "/learn X" request names: by file or title words, else by content."""
    from tools.lessons import find_lesson, request_subject

    subject = request_subject(text)
    if not subject:
        return None
    lesson = find_lesson(subject)
    if lesson is not None:
        return lesson.source
    ranked = rank(index, vector_of(subject), "explain")
    return ranked[0][1].lesson if ranked and ranked[0][0] >= 0.35 else None


def start(index: PassageIndex, dialogue: dict, lesson: str, done: list[str]) -> tuple[str, dict]:
    """Begin (or resume) a lesson at its first section not done yet."""
    anchors = sections(index, lesson)
    step = next((i for i, a in enumerate(anchors) if a not in done), 0)
    guided = {"lesson": lesson, "anchors": anchors, "step": step, "tries": 0}
    title = index.lesson_title(lesson)
    opening = f"Let's work through **{title}** together, one section at a time ({len(anchors)} sections)."
    if step:
        opening += f" You finished {step} already, so we continue from there."
    text, dialogue = present({**dialogue, "guided": guided}, index)
    return f"{opening}\n\n{text}", dialogue


def present(dialogue: dict, index: PassageIndex, passages=None, note: str = "") -> tuple[str, dict]:
    """The current section: a short explanation, then a check question (or an invitation to go on)."""
    from tutor.agent.teach import quote, topic_of

    guided = dialogue["guided"]
    anchor = guided["anchors"][guided["step"]]
    section = [p for p in index.by_lesson[guided["lesson"]] if p.anchor == anchor and p.role in TEACHABLE]
    passages = passages or extend(index, section[0])
    header = f"**Section {guided['step'] + 1}/{len(guided['anchors'])}: {section[0].heading}**"
    asked = dialogue.get("asked", [])
    check = None
    if guided["tries"] < 2:
        lesson = guided["lesson"]  # graded offline with confidence first: multiple choice, then a key-term blank
        check = (
            bank_check(lesson, anchor, asked, same_section_only=True, types=("mcq",))
            or cloze_check(index, lesson, anchor, asked)
            or bank_check(lesson, anchor, asked, same_section_only=True, types=("short",))
        )
    shown = [*dialogue.get("shown", []), *(p.id for p in passages)][-40:]
    dialogue = {**dialogue, "topic": topic_of(section[0], section[0].heading), "shown": shown}
    body = f"{note}{header}\n\n{quote(passages)}"
    if check:
        check = {**check, "guided": True, "attempt": f"check:{uuid.uuid4().hex[:12]}"}
        dialogue = {**dialogue, "check": check, "asked": [*asked, check["item"]][-50:]}
        return f"{body}\n\n{format_check(check)}", dialogue
    return f"{body}\n\nSay **next** to go on to the next section.", {**dialogue, "check": None}


def advance(
    ctx: Context, dialogue: dict, index: PassageIndex, learner_id: str, done: bool, note: str
) -> tuple[str, dict]:
    """Mark the section (when `done`) and present the next one, or finish the lesson."""
    guided = dict(dialogue["guided"])
    if done:
        record_section(ctx, learner_id, guided["lesson"], guided["anchors"][guided["step"]], len(guided["anchors"]))
    guided["step"] += 1
    guided["tries"] = 0
    if guided["step"] >= len(guided["anchors"]):
        from tutor.learner.progress import LearnerModel

        LearnerModel(ctx.learners).mark(learner_id, guided["lesson"])
        title = index.lesson_title(guided["lesson"])
        text = f"{note}🎉 That was the last section of **{title}**: the lesson is marked done."
        return text, {**dialogue, "guided": None, "check": None}
    return present({**dialogue, "guided": guided}, index, note=note)


def reteach(dialogue: dict, index: PassageIndex, feedback: str) -> tuple[str, dict]:
    """After a wrong answer: the same section through a different paragraph, then another question."""
    from tutor.agent.teach import encode

    guided = {**dialogue["guided"], "tries": dialogue["guided"]["tries"] + 1}
    anchor = guided["anchors"][guided["step"]]
    vector = encode(next(p.heading for p in index.by_lesson[guided["lesson"]] if p.anchor == anchor))
    shown = set(dialogue.get("shown", []))
    ranked = [p for _s, p in rank(index, vector, "simpler", lesson=guided["lesson"], shown=shown) if p.id not in shown]
    same = [p for p in ranked if p.anchor == anchor] or ranked
    note = f"❌ {feedback}\n\nLet me put it another way.\n\n"
    return present({**dialogue, "guided": guided}, index, passages=same[:1] or None, note=note)


def record_section(ctx: Context, learner_id: str, lesson: str, anchor: str, total: int) -> None:
    profile = ctx.learners.get(learner_id) or {}
    progress: dict[str, Any] = dict((profile.get("profile") or {}).get("guided", {}))
    entry = progress.get(lesson, {"done": [], "total": total})
    entry = {"done": sorted({*entry.get("done", []), anchor}), "total": total}
    progress[lesson] = entry
    ctx.learners.update_profile(learner_id, guided=progress)


def done_sections(ctx: Context, learner_id: str, lesson: str) -> list[str]:
    profile = (ctx.learners.get(learner_id) or {}).get("profile") or {}
    return list((profile.get("guided") or {}).get(lesson, {}).get("done", []))
