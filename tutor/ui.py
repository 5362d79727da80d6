"""The web UI (Gradio 6 Blocks): streamed chat over the same graph as the CLI.

Each browser keeps a persistent learner id in localStorage (`gr.BrowserState`); with auth on, the
login name is the learner id. The conversation is reloaded from the checkpointer on page load, so it
survives a reload and a server restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from tutor.session import TutorSession

EMBEDDED_NOTICE = (
    "You are talking to the small embedded model (SmolLM2-135M, runs on your CPU). It is fast but often "
    "wrong on facts, so lessons (`/lesson`) are the source of truth. For a stronger tutor set "
    "`TUTOR_MODEL=openai/gpt-4o-mini` (with `OPENAI_API_KEY`), `anthropic/...`, `ollama/<model>` or "
    "`openai-compatible/<model>@<url>` and restart."
)


def to_chat_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Checkpointed LangChain messages -> Gradio chat messages (tool calls as collapsible panels)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, HumanMessage):
            out.append({"role": "user", "content": m.text})
        elif isinstance(m, AIMessage):
            for call in m.tool_calls:
                out.append(
                    {
                        "role": "assistant",
                        "content": f"`{call['name']}({call['args']})`",
                        "metadata": {"title": f"🔧 {call['name']}", "status": "done"},
                    }
                )
            if m.text:
                out.append({"role": "assistant", "content": m.text})
        elif isinstance(m, ToolMessage):
            out.append(
                {
                    "role": "assistant",
                    "content": m.text[:4000],
                    "metadata": {"title": f"📄 {m.name} result", "status": "done"},
                }
            )
    return out


def _learner_id(stored: str | None, request: gr.Request | None) -> str:
    username = getattr(request, "username", None) if request is not None else None
    if username:
        return f"user:{username}"
    return stored or f"browser:{uuid.uuid4().hex}"


def build_ui(session: TutorSession) -> gr.Blocks:
    with gr.Blocks(title="llm-tutor") as demo:
        learner_state = gr.BrowserState("", storage_key="llm_tutor_learner")
        with gr.Row():
            gr.Markdown("## llm-tutor · LLMs and Transformers")
            gr.Markdown(f"Model: **{session.model_label}**", elem_id="model-label")
        if session.spec.is_embedded:
            gr.Markdown(EMBEDDED_NOTICE, elem_id="embedded-notice")
        chatbot = gr.Chatbot(
            label="Tutor",
            height=560,
            elem_id="chat",
            placeholder="Ask about transformers, attention, RAG… or type /help",
            buttons=["copy"],
            feedback_options=None,
        )
        with gr.Row():
            textbox = gr.Textbox(
                placeholder="Type a message and press Enter",
                show_label=False,
                scale=8,
                autofocus=True,
                elem_id="message",
                max_length=session.settings.max_message_chars,
            )
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")

        def on_load(stored: str, request: gr.Request):
            learner_id = _learner_id(stored, request)
            session.learners.touch(learner_id)
            session.learners.count_visit(learner_id)
            return to_chat_messages(session.history(learner_id)), learner_id

        def respond(
            message: str, history: list[dict], stored: str, request: gr.Request
        ) -> Iterator[tuple[list[dict], str, str]]:
            learner_id = _learner_id(stored, request)
            history = [*(history or []), {"role": "user", "content": message}]
            yield history, "", learner_id
            answer: dict[str, Any] | None = None
            for event in session.stream_turn(learner_id, message):
                if event.kind == "token":
                    if answer is None:
                        answer = {"role": "assistant", "content": ""}
                        history.append(answer)
                    answer["content"] += event.text
                elif event.kind == "message":
                    if answer is None:  # not streamed token by token (a command or a tool-free reply)
                        history.append({"role": "assistant", "content": event.text})
                    answer = None
                elif event.kind == "tool_call":
                    answer = None
                    history.append(
                        {
                            "role": "assistant",
                            "content": f"`{event.text}`",
                            "metadata": {"title": f"🔧 {event.data['name']}", "status": "done"},
                        }
                    )
                elif event.kind == "tool_result":
                    history.append(
                        {
                            "role": "assistant",
                            "content": event.text[:4000],
                            "metadata": {"title": f"📄 {event.data['name']} result", "status": "done"},
                        }
                    )
                elif event.kind == "error":
                    history.append({"role": "assistant", "content": f"⚠️ {event.text}"})
                yield history, "", learner_id

        demo.load(on_load, inputs=[learner_state], outputs=[chatbot, learner_state], api_visibility="private")
        gr.on(
            triggers=[textbox.submit, send.click],
            fn=respond,
            inputs=[textbox, chatbot, learner_state],
            outputs=[chatbot, textbox, learner_state],
            api_name="chat",
        )
    return demo


def launch(session: TutorSession, host: str, port: int, block: bool = True) -> gr.Blocks:
    demo = build_ui(session)
    demo.queue(default_concurrency_limit=session.settings.concurrency)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=session.settings.auth_pairs() or None,
        prevent_thread_lock=not block,
        show_error=True,
        quiet=False,
        footer_links=[],
    )
    return demo
