"""Slash commands: deterministic answers that never need the model."""

from __future__ import annotations

from tools.lessons import all_lessons, open_lesson_text
from tutor.prompts import HELP_TEXT

COMMANDS = (
    "/help",
    "/lesson",
    "/run",
    "/example",
    "/restart",
    "/progress",
    "/next",
    "/track",
    "/strategy",
    "/done",
    "/start",
    "/quiz",
    "/socratic",
)


def learner_command(name: str, arg: str, learner_id: str, learners) -> str:
    from tutor.learner.placement import TRACK_NAMES
    from tutor.learner.progress import LearnerModel

    model = LearnerModel(learners)
    if name in ("/track", "/strategy"):
        if not arg:
            profile = model.profile(learner_id)
            return f"Track: `{profile.get('track')}`, strategy: `{profile.get('strategy')}`."
        try:
            kind = "track" if name == "/track" else "strategy"
            profile = model.override(learner_id, **{kind: arg.strip().lower().replace("-", "_").replace(" ", "_")})
        except ValueError as exc:
            return str(exc)
        track = TRACK_NAMES.get(profile.get("track"), profile.get("track"))
        nxt = model.progress(learner_id)["next"]["text"]
        return f"Done: you are on **{track}** with **{profile.get('strategy')}**. {nxt}"
    if name == "/done":
        if not arg:
            return "Which item? e.g. `/done 01_transformer_architecture/02_attention_mechanism.md`"
        model.mark(learner_id, arg.strip())
        return f"Marked `{arg.strip()}` as done. Next: {model.progress(learner_id)['next']['text']}"
    if name == "/start":
        return "You already have a track. " + model.progress(learner_id)["next"]["text"]
    report = model.progress(learner_id)
    if name == "/next":
        return report["next"]["text"]
    return format_progress(report)


def format_progress(report: dict) -> str:
    from tutor.learner.placement import TRACK_NAMES

    profile = report["profile"]
    lines = [
        f"**Track:** {TRACK_NAMES.get(profile.get('track'), 'not placed yet')} · "
        f"**strategy:** {profile.get('strategy') or '—'} · **position:** {report.get('plan_position') or '—'}",
        f"**Next:** {report['next']['text']}",
        "",
        "| skill | P(known) | |",
        "|---|---|---|",
    ]
    for skill, m in report["mastery"].items():
        lines.append(f"| {skill} | {m['p_known']:.2f} | {'✅ mastered' if m['mastered'] else ''} |")
    if report["reviews_due"]:
        lines.append(f"\n**Reviews due:** {', '.join(report['reviews_due'])}")
    for week, cp in report["checkpoints"].items():
        ticks = " · ".join(f"{'☑' if i['mastered'] else '☐'} {i['checklist']}" for i in cp["checklist"])
        lines.append(f"\n**Week {week}{' ✅ passed' if cp['passed'] else ''}:** {ticks}")
    return "\n".join(lines)


def is_command(text: str) -> bool:
    return text.strip().startswith("/")


def run_command(text: str, learner_id: str = "local", learners=None, kernels=None) -> tuple[str, list[dict]]:
    """Answer a slash command; returns (markdown reply, citations). `kernels`: the session's kernel service
    (`/restart`, `/example`)."""
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
    if name == "/socratic" and learners is not None:
        on = arg.strip().lower() not in ("off", "false", "0", "no")
        learners.update_profile(learner_id, socratic=on)
        if on:
            return "Socratic mode on: I will guide with questions instead of giving full answers.", []
        return "Socratic mode off: I will show the full course sections.", []
    if name in ("/progress", "/next", "/track", "/strategy", "/done", "/start") and learners is not None:
        return learner_command(name, arg, learner_id, learners), []
    if name in ("/restart", "/example") and kernels is None:
        return "Running code is not available here (no kernel service in this session).", []
    if name == "/restart":
        return kernels.restart(learner_id), []
    if name == "/example":
        from tools.run_code import format_result, lesson_example

        lesson, _, section = arg.partition(">")
        found = lesson_example(lesson.strip(), section.strip() or None) if lesson.strip() else None
        if found is None:
            return "No runnable example there. Try `/example 02_attention_mechanism > masking`.", []
        code, citation = found
        result = kernels.run(learner_id, code)
        reply = f"Ran the example of `{citation}`:\n\n```python\n{code}\n```\n\n{format_result(result)}"
        return reply, [{"source": citation.split("#")[0], "heading": citation}]
    return f"Unknown command `{name}`. Known commands: {', '.join(COMMANDS)}.", []
