"""`tutor` command line. Imports stay inside commands so `tutor --help` answers fast."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(
    name="tutor",
    help="llm-tutor: a conversational tutor for the LLMs and Transformers roadmap.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 1) -> None:
    """One clear line on stderr, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _session():
    from tutor.models import ProviderError
    from tutor.session import TutorSession

    try:
        return TutorSession()
    except ProviderError as exc:
        fail(str(exc))
    except ValueError as exc:  # invalid settings
        fail(str(exc))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (TUTOR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TUTOR_PORT).")] = None,
) -> None:
    """Serve the web UI (Gradio)."""
    session = _session()
    from tutor.ui import launch

    launch(session, host=host or session.settings.host, port=port or session.settings.port)


@app.command()
def chat(
    learner: Annotated[str, typer.Option(help="Learner id.")] = "local",
) -> None:
    """Chat with the tutor in the terminal (tokens stream as they are generated)."""
    from tutor.terminal import chat_loop

    chat_loop(_session(), learner)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read it from stdin.")],
    learner: Annotated[str, typer.Option(help="Learner id.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run one tutor turn non-interactively."""
    text = sys.stdin.read() if question == "-" else question
    session = _session()
    result = session.run_turn(learner, text)
    session.close()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(result["answer"])
        for c in result["citations"]:
            typer.echo(f"  [source] {c['source']} — {c['heading']}")
    if result["error"]:
        if not as_json:
            typer.echo(f"error: {result['error']}", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
