"""The graph state that the checkpointer persists per conversation thread."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages
from langgraph.managed import RemainingSteps
from typing_extensions import TypedDict

Route = Literal["tutor", "command", "run", "intake", "quiz_start", "quiz_ask", "teach", "check"]


class TutorState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    learner_id: str
    learner: dict[str, Any]  # a snapshot of the learner's profile, loaded at the start of each turn
    route: Route
    quiz: dict[str, Any]  # the current quiz attempt (id, items, index, results, status)
    command: str | None  # a slash command chosen by the intent classifier for free text
    socratic: bool  # guide with questions instead of answers (always on inside quizzes)
    interactive: bool  # a person at a UI/terminal; False for `tutor ask`
    dialogue: dict[str, Any]  # topic, moves made, pending check, offered code, guided lesson (tutor/agent/teach.py)
    remaining_steps: RemainingSteps  # graph steps left before the recursion limit (the last-step guard)
