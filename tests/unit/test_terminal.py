"""`tutor chat` streams the same turn as the UI and keeps going after errors."""

import io

from rich.console import Console

from tests.conftest import fake_model
from tutor.terminal import chat_loop


def test_chat_loop_streams_answers_and_handles_commands(session_factory):
    session = session_factory(fake_model("Attention mixes token vectors."))
    inputs = iter(["What is attention?", "", "/help", "x" * 9000])
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)

    def fake_input(prompt: str = "") -> str:
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    console.input = fake_input  # type: ignore[method-assign]
    chat_loop(session, "ann", console)
    text = out.getvalue()
    assert "Attention mixes token vectors." in text
    assert "/lesson" in text  # the help command answered
    assert "TUTOR_MAX_MESSAGE_CHARS" in text  # an oversized message is refused, the loop goes on
