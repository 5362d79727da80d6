"""Slash commands: deterministic answers that never need the model."""

from __future__ import annotations

from tools.lessons import all_lessons, open_lesson_text
from tutor.agent.prompts import HELP_TEXT

COMMANDS = ("/help", "/lesson")


def is_command(text: str) -> bool:
    return text.strip().startswith("/")


def run_command(text: str) -> tuple[str, list[dict]]:
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
    return f"Unknown command `{name}`. Known commands: {', '.join(COMMANDS)}.", []
