"""`tutor chat` streams the same turn as the UI and keeps going after errors."""

import io

from rich.console import Console

from tests.conftest import fake_model
from tutor.terminal import chat_loop


def _console(answers: list[str]) -> tuple[Console, io.StringIO]:
    inputs = iter(answers)
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)

    def fake_input(prompt: str = "") -> str:
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    console.input = fake_input  # type: ignore[method-assign]
    return console, out


def test_chat_loop_streams_answers_and_handles_commands(session_factory):
    session = session_factory(fake_model("Attention mixes token vectors."), model="openai/gpt-4o-mini")
    session.learners.update_profile("ann", track="software_engineer", strategy="practice_first")
    console, out = _console(["What is attention?", "", "/help", "x" * 9000])
    chat_loop(session, "ann", console)
    text = out.getvalue()
    assert "Attention mixes token vectors." in text
    assert "/lesson" in text  # the help command answered
    assert "TUTOR_MAX_MESSAGE_CHARS" in text  # an oversized message is refused, the loop goes on


def test_first_chat_starts_the_intake_and_places_the_learner(session_factory):
    session = session_factory(fake_model("unused"))
    console, out = _console(["1", "1", "4", "1", "2", "practice"])
    chat_loop(session, "newbie", console)
    text = out.getvalue()
    assert "(1/6)" in text and "1. Software engineer / developer" in text
    assert "Your track: Software Engineers" in text
