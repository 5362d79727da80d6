"""The teaching core as tools for a capable model: the same moves, checks, quiz flow and learner record the
embedded path reaches through routing.

A tool never grades or asks quiz questions itself: `start_quiz` hands the turn to the graph's quiz flow
(interrupts, one question at a time, graded in code), and `check_understanding` leaves a pending check
that the teaching node grades when the learner answers. Nothing here returns an answer key.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

Move = Literal["explain", "simpler", "example", "why", "misconception"]


def _learner(runtime: ToolRuntime) -> str:
    return str((runtime.state or {}).get("learner_id") or "local")


def _context(runtime: ToolRuntime):
    return runtime.context


@tool
def explain_topic(topic: str, runtime: ToolRuntime, move: Move = "explain") -> Command:
    """Quote the one or two course paragraphs that teach `topic` with a teaching move: explain (intuition
    first), simpler, example (worked numbers or code), why (the mechanism) or misconception (common
    mistakes). Cite the returned source#anchor. Sets the conversation's current topic."""
    from tutor.agent.teach import citations_of, covered, encode, passage_index, quote, section_bonus, topic_of
    from tutor.teaching.moves import scope_score, select

    ctx = _context(runtime)
    tool_call_id = runtime.tool_call_id
    index = passage_index(ctx)
    state = runtime.state or {}
    track = ((state.get("learner") or {}).get("profile") or {}).get("track")
    vector = encode(topic)
    chosen = select(index, vector, move, track=track, section_bonus=section_bonus(topic, ctx))
    dialogue = dict(state.get("dialogue") or {})
    if not chosen.passages or not covered(index, topic, scope_score(index, vector)):  # the embedded path's scope
        text = f"The course does not cover {topic!r}; say so and suggest the closest lesson if one fits."
        return Command(update={"messages": [ToolMessage(text, tool_call_id=tool_call_id)]})
    dialogue["topic"] = topic_of(chosen.passages[0], topic)
    body = quote(chosen.passages)
    message = ToolMessage(body, tool_call_id=tool_call_id, artifact={"citations": citations_of(chosen.passages)})
    return Command(update={"messages": [message], "dialogue": dialogue})


@tool
def check_understanding(runtime: ToolRuntime) -> Command:
    """Ask the learner one check question on the current topic (from the course's question bank or a
    key-term blank). Relay the question exactly; the learner's next message is graded by the tutor, not
    by you, and feeds their mastery."""
    from tutor.agent.teach import ask_check

    state, tool_call_id = runtime.state or {}, runtime.tool_call_id
    update = ask_check(_context(runtime), dict(state.get("dialogue") or {}))
    question = update["messages"][-1].text
    return Command(update={"dialogue": update["dialogue"],
                           "messages": [ToolMessage(question, tool_call_id=tool_call_id)]})  # fmt: skip


@tool
def start_quiz(request: str, runtime: ToolRuntime) -> Command:
    """Start a graded quiz: `request` is "week 2", a skill id such as "w2.rag", "diagnostic", "resume",
    or a topic ("quantization"). The tutor then asks the questions itself; do not ask or answer them."""
    tool_call_id = runtime.tool_call_id
    command = request.strip()
    command = command if command.startswith("/quiz") else f"/quiz {command}"
    if not any(w in command for w in ("week", "w1", "w2", "w3", "diagnostic", "resume", "discard")):
        command = f"/quiz topic {command.removeprefix('/quiz').strip()}"
    note = ToolMessage(f"Starting the quiz ({command}).", tool_call_id=tool_call_id)
    return Command(update={"messages": [note], "command": command, "route": "quiz_start"})


@tool(response_format="content_and_artifact")
def learner_progress(runtime: ToolRuntime, what: Literal["progress", "next"] = "progress") -> tuple[str, dict]:
    """The learner's record: `progress` (track, plan position, mastery per skill, reviews due) or `next`
    (the next step of their plan). Use it for "how am I doing?" and "what should I do next?"."""
    from tutor.agent.commands import run_command

    ctx = _context(runtime)
    reply, citations = run_command(f"/{what}", _learner(runtime), ctx.learners, ctx.kernels)
    return reply, {"citations": citations}


TEACHING_TOOLS = [explain_topic, check_understanding, start_quiz, learner_progress]
