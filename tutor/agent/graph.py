"""The tutor graph: route (loads the learner) -> (command | run | intake | teach | quiz | tutor <-> tools).

Compiled once per process with a checkpointer; the model and stores arrive per run as `Context`.
"""

from __future__ import annotations

import re
from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from tools.lessons import open_lesson
from tools.run_code import extract_code, format_result, kernels_of, run_code, run_lesson_example
from tools.search import search_curriculum
from tutor.agent.commands import is_command, run_command
from tutor.agent.context import Context
from tutor.agent.history import answered, fit_history, invalid_call_results
from tutor.agent.intake import intake
from tutor.agent.intents import TOPIC_QUIZ, classify, code_in, track_change
from tutor.agent.quiz import QUIZ_REQUEST, after_ask, after_start, quiz_ask, quiz_finish, quiz_start
from tutor.agent.state import TutorState
from tutor.agent.teach import teach
from tutor.agent.teaching_tools import TEACHING_TOOLS
from tutor.prompts import EMBEDDED_SYSTEM, LAST_STEP_NOTE, TUTOR_SYSTEM, learner_note

TOOLS = [search_curriculum, open_lesson, run_code, run_lesson_example, *TEACHING_TOOLS]
LAST_STEPS = 3  # below this many remaining graph steps the model answers without tools
OUT_OF_STEPS = ("I looked things up for too long on this one and have to stop here. Ask me again more narrowly "
                "(for example one concept at a time), or open the lesson with `/lesson`.")  # fmt: skip


def _last_human(state: TutorState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text if hasattr(message, "text") else str(message.content)
    return ""


def load_learner(state: TutorState, runtime: Runtime[Context]) -> dict:
    learner_id = state.get("learner_id") or "local"
    return {"learner": runtime.context.learners.touch(learner_id), "learner_id": learner_id}


RUN_IT = re.compile(
    r"^\s*(yes|yeah|yep|sure|ok(ay)?|please|go ahead|do it)?[,!. ]*(run (it|that|this|the code)|do it|yes please)?\W*$",
    re.IGNORECASE,
)


START_INTAKE = re.compile(r"^\s*(/start|set up my plan)\s*$", re.IGNORECASE)


def route(state: TutorState, runtime: Runtime[Context]) -> dict:
    """Load the learner and pick the next node. One node, not two: each graph step costs about 3 ms on
    two cores, which is a twentieth of the embedded model's warm time to first token."""
    learner = load_learner(state, runtime)
    return {**learner, **decide({**state, **learner}, runtime)}


def decide(state: TutorState, runtime: Runtime[Context]) -> dict:
    """Deterministic routing: code and commands never reach the model; questions are never swallowed."""
    text = _last_human(state)
    dialogue = state.get("dialogue") or {}
    if START_INTAKE.match(text) and not (state.get("learner") or {}).get("profile", {}).get("track"):
        return {"route": "intake", "command": None}
    if text.strip().startswith("/run") or (not is_command(text) and extract_code(text)):
        return {"route": "run", "command": None}
    if dialogue.get("offered") and text.strip() and RUN_IT.match(text) and re.search(r"\w", text):
        return {"route": "run", "command": None}
    if text.strip().startswith("/learn"):
        return {"route": "teach", "command": text.strip()}
    if is_command(text) and not QUIZ_REQUEST.match(text):
        return {"route": "command", "command": None}
    if runtime.context.embedded or dialogue.get("check"):
        decision = route_by_intent(text, bool(dialogue.get("topic")), pending_check=bool(dialogue.get("check")))
        return {"command": None, **decision}
    if QUIZ_REQUEST.match(text):
        return {"route": "quiz_start", "command": None}
    return {"route": "tutor", "command": None}


def route_by_intent(text: str, has_topic: bool = False, pending_check: bool = False) -> dict:
    """Free text for the embedded model: what the message asks the tutor to do."""
    quiz = QUIZ_REQUEST.match(text) and not pending_check and not (has_topic and TOPIC_QUIZ.match(text))
    intent = "quiz" if quiz else classify(text, has_topic=has_topic)
    if intent == "quiz" and (topic := topic_quiz(text)):  # "quiz me on quantization": that lesson's skill
        return {"route": "quiz_start", "command": f"/quiz topic {topic}"}
    if pending_check and intent in ("explain", "chat", "check"):
        return {"route": "teach"}  # the teaching node decides whether this answers the pending check
    if intent == "run":
        return {"route": "run"}
    if intent == "quiz":
        return {"route": "quiz_start"}
    if intent in ("progress", "next"):
        return {"route": "command", "command": f"/{intent}"}
    if intent == "track":
        track, strategy = track_change(text)
        return {"route": "command", "command": f"/track {track}" if track else f"/strategy {strategy}"}
    if intent == "lesson":
        return {"route": "command", "command": f"/lesson {lesson_subject(text)}".strip()}
    if intent == "learn":
        return {"route": "teach", "command": f"/learn {text}"}
    if intent == "check":
        return {"route": "check"}
    if intent == "chat":
        return {"route": "tutor"}
    return {"route": "teach"}


def topic_quiz(text: str) -> str | None:
    """The topic of "quiz me on <topic>" when it names no week and no skill id. A skill's name inside the
    topic is not enough: "paged attention" is about serving, not the attention skill; the topic's lesson
    decides the skill (quiz.topic_request)."""
    from tutor.agent.quiz import parse_request

    request = parse_request(text)
    if (
        request.get("kind") not in ("checkpoint", "skill")
        or request.get("week")
        or re.search(r"\b(checkpoint|week|all)\b|\bw[123]\.\w", text, re.I)
    ):
        return None
    found = re.search(r"\b(on|about|of|in)\s+(?:the\s+)?(?P<topic>[\w][\w\s\-/'&.]{2,60})$", text.strip(" ?!."), re.I)
    return found.group("topic").strip() if found else None


def lesson_subject(text: str) -> str:
    """The lesson named in "open the lesson on tokenization" (empty: list them all)."""
    from tools.lessons import find_lesson_by_words

    lesson = find_lesson_by_words(text)
    return lesson.source if lesson else ""


def run(state: TutorState, runtime: Runtime[Context]) -> dict:
    """Fenced code, `/run CODE`, "run print(1)" or "run it" after an offered example: run it in the
    learner's own kernel (of the session's `Context.kernels`) and show the outcome."""
    text = _last_human(state)
    offered = (state.get("dialogue") or {}).get("offered") or {}
    code = extract_code(text) or code_in(text) or (offered.get("code") if RUN_IT.match(text) else None)
    if not code:
        return {"messages": [AIMessage("Nothing to run: put code after `/run` or in a ```python block.")]}
    result = kernels_of(runtime.context).run(state.get("learner_id") or "local", code)
    shown = f"```python\n{code[:4000]}\n```\n\n{format_result(result)}"
    message = AIMessage(shown, additional_kwargs={"run": result.as_dict(), "code": code})
    dialogue = {**(state.get("dialogue") or {}), "offered": None}
    return {"messages": [message], "dialogue": dialogue}


def command(state: TutorState, runtime: Runtime[Context]) -> dict:
    text = state.get("command") or _last_human(state)
    ctx = runtime.context
    reply, citations = run_command(text, state.get("learner_id") or "local", ctx.learners, ctx.kernels)
    return {"messages": [AIMessage(reply, additional_kwargs={"citations": citations})]}


def tutor(state: TutorState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    system = EMBEDDED_SYSTEM if ctx.embedded else TUTOR_SYSTEM
    mastery = None if ctx.embedded else mastery_of(state, ctx)  # the small model's context is too short for it
    note = learner_note(state.get("learner", {}), state.get("dialogue"), mastery)
    last_step = state.get("remaining_steps", LAST_STEPS + 1) <= LAST_STEPS
    if last_step and not ctx.embedded:
        note += "\n" + LAST_STEP_NOTE
    system_message = SystemMessage(f"{system}\n\n{note}")
    # the small model only makes small talk (the teaching node answers from the course): a history of quoted
    # sections made it ramble (“I am a human…”), so it sees the last message alone
    messages = answered(state["messages"])
    history = fit_history(messages[-1:] if ctx.embedded else messages, system_message, ctx)
    prompt = [system_message, *history]
    model = ctx.model if ctx.embedded or last_step else ctx.model.bind_tools(TOOLS)
    if ctx.embedded:
        tell_if_queued()
    reply = model.invoke(prompt)
    if last_step and isinstance(reply, AIMessage) and (reply.tool_calls or reply.invalid_tool_calls):
        reply = AIMessage(reply.text or OUT_OF_STEPS, id=reply.id)  # the guard holds even if the model ignores it
    if isinstance(reply, AIMessage) and reply.invalid_tool_calls and not reply.tool_calls:
        return {"messages": [reply, *invalid_call_results(reply)]}  # malformed arguments: the model tries again
    return {"messages": [reply]}


def tell_if_queued() -> None:
    """The embedded model writes for one learner at a time: one who has to wait is told so at once, instead
    of looking at an empty reply (course answers never wait for it)."""
    from langgraph.config import get_stream_writer

    from tutor import llama_thread

    if ahead := llama_thread.busy():
        get_stream_writer()({"queued": ahead})


def mastery_of(state: TutorState, ctx: Context) -> dict[str, float]:
    from tutor.learner.progress import LearnerModel

    return LearnerModel(ctx.learners).mastery_map(state.get("learner_id") or "local")


def after_tools(state: TutorState) -> Literal["tutor", "quiz_start"]:
    """A tool may hand the turn to the quiz flow (`start_quiz`); otherwise the model continues."""
    return "quiz_start" if state.get("route") == "quiz_start" else "tutor"


def after_route(state: TutorState) -> Literal["command", "tutor", "run", "intake", "quiz_start", "teach"]:
    return "teach" if state["route"] == "check" else state["route"]


def after_tutor(state: TutorState) -> Literal["tools", "tutor", "__end__"]:
    last = state["messages"][-1]
    if isinstance(last, ToolMessage):  # errors for malformed tool arguments: back to the model
        return "tutor"
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def build_graph(checkpointer=None):
    """Compile the graph; pass a checkpointer to persist conversations."""
    builder = StateGraph(TutorState, context_schema=Context)
    builder.add_node("route", route)
    builder.add_node("command", command)
    builder.add_node("run", run)
    builder.add_node("intake", intake)
    builder.add_node("teach", teach)
    builder.add_node("quiz_start", quiz_start)
    builder.add_node("quiz_ask", quiz_ask)
    builder.add_node("quiz_finish", quiz_finish)
    builder.add_node("tutor", tutor)
    builder.add_node("tools", ToolNode(TOOLS, handle_tool_errors=True))
    builder.add_edge(START, "route")
    builder.add_conditional_edges("route", after_route)
    builder.add_edge("command", END)
    builder.add_edge("run", END)
    builder.add_edge("intake", END)
    builder.add_edge("teach", END)
    builder.add_conditional_edges("quiz_start", after_start)
    builder.add_conditional_edges("quiz_ask", after_ask)
    builder.add_edge("quiz_finish", END)
    builder.add_conditional_edges("tutor", after_tutor)
    builder.add_conditional_edges("tools", after_tools)
    return builder.compile(checkpointer=checkpointer, name="llm-tutor")
