"""`tutor chat`: the same conversation as the web UI, in a terminal, with streamed tokens."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown

from tutor.session import TutorSession


def chat_loop(session: TutorSession, learner_id: str, console: Console | None = None) -> None:
    console = console or Console()
    session.learners.touch(learner_id)
    session.learners.count_visit(learner_id)
    console.print(f"[bold]llm-tutor[/] · model: {session.model_label} · /help for commands · Ctrl-D to quit")
    learner = session.learners.get(learner_id) or {}
    if not learner.get("profile", {}).get("track") and session.pending_question(learner_id) is None:
        _render(console, session.stream_turn(learner_id, "/start", interactive=True))
    while True:
        try:
            text = console.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if not text.strip():
            continue
        if text.strip() in ("/quit", "/exit"):
            break
        console.print("[bold green]tutor>[/] ", end="")
        _render(console, session.stream_turn(learner_id, text, interactive=True))
    session.close()


def _render(console: Console, events) -> None:
    """Print one turn: streamed tokens inline, whole messages as markdown, questions with options."""
    streamed = False
    for event in events:
        if event.kind == "token":
            console.print(event.text, end="", markup=False, highlight=False)
            streamed = True
        elif event.kind == "message":
            if streamed:
                console.print()
                streamed = False
            else:
                console.print(Markdown(event.text))
        elif event.kind == "tool_call":
            console.print(f"\n[dim]→ {event.text}[/]")
        elif event.kind == "tool_result":
            console.print(f"[dim]{event.text[:400]}[/]")
        elif event.kind == "interrupt":
            if event.data.get("intro") and "(1/" in event.text:
                console.print(event.data["intro"])
            console.print(f"\n[bold]{event.text}[/]")
            for i, option in enumerate(event.data.get("options", []), 1):
                console.print(f"  {i}. {option}")
        elif event.kind == "error":
            console.print(f"\n[red]{event.text}[/]")
    if streamed:
        console.print()
