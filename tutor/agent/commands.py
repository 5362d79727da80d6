"""Slash commands: deterministic answers that never need the model."""

from __future__ import annotations

from tools.lessons import all_lessons, open_lesson_text
from tutor.agent.prompts import HELP_TEXT

COMMANDS = ("/help", "/lesson", "/run", "/example", "/restart")


def is_command(text: str) -> bool:
    return text.strip().startswith("/")


def run_command(text: str, learner_id: str = "local") -> tuple[str, list[dict]]:
    """Answer a slash command; returns (markdown reply, citations)."""
    name, _, arg = text.strip().partition(" ")
    name, arg = name.lower(), arg.strip()
    if name == "/help":
        return HELP_TEXT, []
    if name == "/lesson":
        if not arg:
            rows = [f"- `{x.source}` — {x.meta.title} (week {x.meta.week})" for x in all_lessons()]
            return "**Lessons**\n\n" + "\n".join(rows), []
        lesson, _, section = arg.partition(">")
        found = open_lesson_text(lesson.strip(), section.strip() or None)
        if "error" in found:
            return found["error"], []
        reply = f"{found['text']}\n\n*Source: `{found['citation']}`*"
        return reply, [{"source": found["source"], "heading": found["heading"]}]
    if name == "/restart":
        from tools.kernel import get_kernel_service

        return get_kernel_service().restart(learner_id), []
    if name == "/example":
        from tools.run_code import format_result, lesson_example, run_for_session

        lesson, _, section = arg.partition(">")
        found = lesson_example(lesson.strip(), section.strip() or None) if lesson.strip() else None
        if found is None:
            return "No runnable example there. Try `/example 02_attention_mechanism > masking`.", []
        code, citation = found
        result = run_for_session(learner_id, code)
        reply = f"Ran the example of `{citation}`:\n\n```python\n{code}\n```\n\n{format_result(result)}"
        return reply, [{"source": citation.split("#")[0], "heading": citation}]
    return f"Unknown command `{name}`. Known commands: {', '.join(COMMANDS)}.", []
