"""Check-my-understanding questions for the current topic, and grading the learner's reply to one.

A check is a quiz-bank item that points at the topic's lesson (graded by the quiz grader and recorded as
an attempt, so it moves mastery) or, for a section with no bank item, a fill-in-the-blank question made
from one of the section's bolded key terms, with other key terms of the lesson as the options.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from tools.quiz.bank import get_item, load_bank, public_view, skill_of
from tools.quiz.grading import grade
from tutor.teaching.passages import PassageIndex
from tutor.text import sentences

BOLD = re.compile(r"\*\*([^*\n]{3,40})\*\*")
OPTION_ANSWER = re.compile(r"^\s*(?:option\s+)?\(?([a-dA-D])\)?(?:[).:]\s*.*)?\s*$")
GIVE_UP = re.compile(r"^\s*(i don'?t know|no idea|idk|skip|pass|give up|not sure|tell me)\b", re.IGNORECASE)


def bank_check(
    lesson: str, anchor: str | None, asked: list[str], same_section_only: bool = False, types=("mcq", "short")
) -> dict[str, Any] | None:
    """A bank item on this lesson: multiple choice first (graded reliably offline), this section first."""
    items = [i for i in load_bank().values() if i.section.split("#")[0] == lesson and i.type in types]
    if same_section_only:
        items = [i for i in items if i.section.endswith(f"#{anchor}") and i.id not in asked]
    if not items:
        return None

    def preference(item) -> tuple:
        same_section = anchor and item.section.endswith(f"#{anchor}")
        return (item.id in asked, item.type != "mcq", not same_section, item.difficulty, item.id)

    item = sorted(items, key=preference)[0]
    view = public_view(item)
    options = [f"{o['id']}) {o['text']}" for o in view["options"]]
    return {"kind": "bank", "item": item.id, "prompt": view["prompt"].strip(), "options": options, "type": item.type}


def cloze_check(index: PassageIndex, lesson: str, anchor: str, asked: list[str]) -> dict[str, Any] | None:
    """Blank one bolded key term of the section; the options are other key terms of the same lesson."""
    section = [p for p in index.by_lesson.get(lesson, []) if p.anchor == anchor and not p.has_code]
    lesson_terms = list(dict.fromkeys(t for p in index.by_lesson.get(lesson, []) for t in BOLD.findall(p.text)))
    for p in section:
        for sentence in sentences(p.text.replace("\n", " "), semicolons=False, fallback=False):
            for term in BOLD.findall(sentence):
                key = f"cloze:{lesson}#{anchor}:{term}"
                others = [t for t in lesson_terms if t.lower() != term.lower() and t.lower() not in sentence.lower()]
                if key in asked or len(others) < 2 or len(sentence) > 320 or term.startswith('"'):
                    continue
                blanked = sentence.replace(f"**{term}**", "_____", 1).replace("**", "")
                seed = int(hashlib.sha256(key.encode()).hexdigest(), 16)
                choices = [term, *sorted(others, key=lambda t: hashlib.sha256(f"{seed}{t}".encode()).hexdigest())[:3]]
                choices.sort(key=lambda t: hashlib.sha256(f"{seed}:{t}".encode()).hexdigest())
                letters = "abcd"[: len(choices)]
                return {
                    "kind": "cloze",
                    "item": key,
                    "prompt": f"Fill the blank: “{blanked}”",
                    "options": [f"{letter}) {c}" for letter, c in zip(letters, choices, strict=True)],
                    "type": "mcq",
                    "answer": letters[choices.index(term)],
                    "term": term,
                    "citation": p.citation,
                }
    return None


def format_check(check: dict[str, Any]) -> str:
    lines = [f"**Check:** {check['prompt']}"]
    lines += [f"- {o}" for o in check.get("options", [])]
    hint = "Reply with a letter." if check.get("options") else "Reply in a sentence or two."
    return "\n".join(lines) + f"\n\n*{hint} (`skip` shows the answer.)*"


def looks_like_answer(check: dict[str, Any], text: str) -> bool:
    """Is the message a reply to the pending check (and not a new question or a request)?"""
    stripped = text.strip()
    if check.get("options"):
        if OPTION_ANSWER.match(stripped):
            return True
        return any(stripped.lower() == o.split(") ", 1)[-1].lower() for o in check["options"])
    if stripped.endswith("?") or stripped.startswith("/"):
        return False
    return len(stripped.split()) >= 3


def gave_up(text: str) -> bool:
    return bool(GIVE_UP.match(text))


def grade_check(check: dict[str, Any], text: str) -> dict[str, Any]:
    """{"correct", "score", "feedback", "skill"}; a bank item goes through the quiz grader."""
    if check["kind"] == "cloze":
        m = OPTION_ANSWER.match(text.strip())
        chosen = (
            m.group(1).lower()
            if m
            else next((o[0] for o in check["options"] if text.strip().lower() == o.split(") ", 1)[-1].lower()), "")
        )
        right = chosen == check["answer"]
        verdict = "Correct" if right else f"Not quite: the blank is **{check['term']}**"
        return {
            "correct": right,
            "score": float(right),
            "feedback": f"{verdict}. See `{check['citation']}`.",
            "skill": None,
        }
    item = get_item(check["item"])
    result = grade(item, text)
    return {"correct": result.correct, "score": result.score, "feedback": result.feedback, "skill": skill_of(item),
            "invalid": bool(result.details.get("invalid")), "type": item.type}  # fmt: skip


def reveal(check: dict[str, Any]) -> str:
    """The answer after the learner gave up (a check is practice, not an exam)."""
    if check["kind"] == "cloze":
        return f"The blank is **{check['term']}** (`{check['citation']}`)."
    item = get_item(check["item"])
    if item.type == "mcq":
        key = next(o for o in item.options if o.id == item.answer)
        return f"The answer is **{key.id}) {key.text}**. {item.explanation.strip()}\n\nRevisit: `{item.section}`"
    if item.type == "numeric":
        unit = f" {item.unit}" if item.unit else ""
        return f"The answer is **{item.answer:g}{unit}**. {item.explanation.strip()}\n\nRevisit: `{item.section}`"
    return f"A good answer: {item.reference_answer.strip()}\n\nRevisit: `{item.section}`"
