"""The tutor graph: load_learner -> route -> (command | tutor <-> tools).

Compiled once per process with a checkpointer; the model and stores arrive per run as `Context`.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, trim_messages
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from tools.lessons import open_lesson
from tools.run_code import extract_code, format_result, run_code, run_for_session, run_lesson_example
from tools.search import search_curriculum
from tutor.agent.commands import is_command, run_command
from tutor.agent.context import Context
from tutor.agent.explain import explain as grounded_explain
from tutor.agent.intake import intake
from tutor.agent.intents import classify, code_to_run, track_change
from tutor.agent.prompts import EMBEDDED_SYSTEM, TUTOR_SYSTEM, learner_note
from tutor.agent.quiz import QUIZ_REQUEST, after_ask, after_start, quiz_ask, quiz_finish, quiz_start
from tutor.agent.state import TutorState

TOOLS = [search_curriculum, open_lesson, run_code, run_lesson_example]


def _last_human(state: TutorState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text if hasattr(message, "text") else str(message.content)
    return ""


def load_learner(state: TutorState, runtime: Runtime[Context]) -> dict:
    learner_id = state.get("learner_id") or "local"
    return {"learner": runtime.context.learners.touch(learner_id), "learner_id": learner_id}


def route(state: TutorState, runtime: Runtime[Context]) -> dict:
    """Deterministic routing: code and commands never reach the model; a new learner gets the intake."""
    text = _last_human(state)
    has_track = bool((state.get("learner") or {}).get("profile", {}).get("track"))
    if not has_track and (text.strip() == "/start" or (state.get("interactive") and not is_command(text))):
        return {"route": "intake"}
    if text.strip().startswith("/run") or (not is_command(text) and extract_code(text)):
        return {"route": "run"}
    if QUIZ_REQUEST.match(text):
        return {"route": "quiz_start"}
    if is_command(text):
        return {"route": "command", "command": None}
    if runtime.context.embedded:  # the small model cannot pick tools: an intent classifier does
        return route_by_intent(text)
    return {"route": "tutor"}


def route_by_intent(text: str) -> dict:
    intent, _similarity = classify(text)
    if intent == "run" and code_to_run(text):
        return {"route": "run"}
    if intent == "quiz":
        return {"route": "quiz_start"}
    if intent in ("progress", "next"):
        return {"route": "command", "command": f"/{intent}"}
    if intent == "track":
        track, strategy = track_change(text)
        if track or strategy:
            return {"route": "command", "command": f"/track {track}" if track else f"/strategy {strategy}"}
    if intent == "lesson":
        return {"route": "command", "command": "/lesson"}
    if intent == "greeting":
        return {"route": "tutor"}
    return {"route": "explain"}


def run(state: TutorState) -> dict:
    """Fenced code or `/run CODE`: execute in the learner's kernel and show the outcome."""
    code = extract_code(_last_human(state)) or code_to_run(_last_human(state))
    if not code:
        return {"messages": [AIMessage("Nothing to run: put code after `/run` or in a ```python block.")]}
    result = run_for_session(state.get("learner_id") or "local", code)
    shown = f"```python\n{code[:4000]}\n```\n\n{format_result(result)}"
    message = AIMessage(shown, additional_kwargs={"run": result.as_dict(), "code": code})
    return {"messages": [message]}


def command(state: TutorState, runtime: Runtime[Context]) -> dict:
    text = state.get("command") or _last_human(state)
    reply, citations = run_command(text, state.get("learner_id") or "local", runtime.context.learners)
    return {"messages": [AIMessage(reply, additional_kwargs={"citations": citations})]}


def tutor(state: TutorState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    system = EMBEDDED_SYSTEM if ctx.embedded else TUTOR_SYSTEM
    history = trim_messages(
        state["messages"],
        strategy="last",
        token_counter=len,  # count messages: cheap and model-independent
        max_tokens=ctx.settings.history_messages,
        start_on="human",
        include_system=False,
    )
    prompt = [SystemMessage(f"{system}\n\n{learner_note(state.get('learner', {}))}"), *history]
    model = ctx.model if ctx.embedded else ctx.model.bind_tools(TOOLS)
    return {"messages": [model.invoke(prompt)]}


def explain(state: TutorState, runtime: Runtime[Context]) -> dict:
    """Embedded model: quote and cite the course sections that answer the question."""
    from tools.search import search_curriculum_hits
    from tutor.retrieval.store import IndexError_

    question = _last_human(state)
    track = (state.get("learner") or {}).get("profile", {}).get("track")

    def search(q: str):
        try:
            return search_curriculum_hits(q, k=6, settings=runtime.context.settings)
        except IndexError_:
            return []

    profile = (state.get("learner") or {}).get("profile", {})
    socratic = bool(profile.get("socratic"))
    text, hits = grounded_explain(question, runtime.context.model, search, track, socratic=socratic)
    citations = [{"source": h.source, "heading": h.heading, "anchor": h.anchor} for h in hits]
    return {"messages": [AIMessage(text, additional_kwargs={"citations": citations})]}


def after_route(state: TutorState) -> Literal["command", "tutor", "run", "intake", "quiz_start", "explain"]:
    return state["route"]


def after_tutor(state: TutorState) -> Literal["tools", "__end__"]:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def build_graph(checkpointer=None):
    """Compile the graph; pass a checkpointer to persist conversations."""
    builder = StateGraph(TutorState, context_schema=Context)
    builder.add_node("load_learner", load_learner)
    builder.add_node("route", route)
    builder.add_node("command", command)
    builder.add_node("run", run)
    builder.add_node("intake", intake)
    builder.add_node("explain", explain)
    builder.add_node("quiz_start", quiz_start)
    builder.add_node("quiz_ask", quiz_ask)
    builder.add_node("quiz_finish", quiz_finish)
    builder.add_node("tutor", tutor)
    builder.add_node("tools", ToolNode(TOOLS, handle_tool_errors=True))
    builder.add_edge(START, "load_learner")
    builder.add_edge("load_learner", "route")
    builder.add_conditional_edges("route", after_route)
    builder.add_edge("command", END)
    builder.add_edge("run", END)
    builder.add_edge("intake", END)
    builder.add_edge("explain", END)
    builder.add_conditional_edges("quiz_start", after_start)
    builder.add_conditional_edges("quiz_ask", after_ask)
    builder.add_edge("quiz_finish", END)
    builder.add_conditional_edges("tutor", after_tutor)
    builder.add_edge("tools", "tutor")
    return builder.compile(checkpointer=checkpointer, name="llm-tutor")
