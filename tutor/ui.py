"""The web UI (Gradio 6 Blocks): streamed chat over the same graph as the CLI, plus a progress sidebar.

Each browser keeps a learner code issued and signed by the server (tutor/identity.py) in localStorage
(`gr.BrowserState`); with auth on, the login name is the learner id. Every handler checks the code, so
an id alone, or a private endpoint called by index, reaches nobody's data. The chat shown is always
rebuilt from the server's checkpoint, never taken from the request, so it survives a reload and a
server restart. Questions the graph asks (intake) appear as option buttons.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from tutor.learner.placement import TRACK_NAMES
from tutor.learner.progress import LearnerModel
from tutor.session import TutorSession, clean_text

INTRO = (
    "A tutor for the *LLMs and Transformers* course: ask a question, say **teach me attention** for a "
    "guided lesson, **quiz me** for a checkpoint quiz, or run Python with `/run`. Type `/help` for everything."
)
EMBEDDED_NOTICE = (
    "Answers come from the course lessons; the small built-in model only chats. Server admins can connect a "
    "stronger model with `TUTOR_MODEL` (see the README)."
)
CSS = """
#sidebar .bar {background:#eee;border-radius:4px;height:8px;margin:2px 0 6px 0}
#sidebar .bar > div {background:#f97316;height:8px;border-radius:4px}
#sidebar .bar > div.done {background:#16a34a}
#sidebar small {color:#555}
"""


WELCOME = (
    "Hi! I'm your tutor for **LLMs and transformers**. Ask me anything about the course (\"what is "
    'attention?"), say **teach me attention** for a guided lesson, or run code with `/run print(2+2)`.\n\n'
    "New here? **Set up my plan** (six quick questions) gives you a track and a 3-week plan; you can also do it later."
)


def quick_replies(messages: list[BaseMessage]) -> list[str]:
    """The options or teaching moves the last tutor message offered (none once the learner answered)."""
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            return []
        if isinstance(m, AIMessage):
            return list(m.additional_kwargs.get("options") or m.additional_kwargs.get("moves") or [])
    return []


def image_messages(images: list[str], media_dir: Path, owner_key: str = "") -> list[dict[str, Any]]:
    """Base64 PNGs from a code run -> chat messages showing the image inline (files under the data dir).
    The file name is keyed by the owner's secret (`Identity.media_key`): another user who knows or
    guesses the picture cannot compute its URL."""
    out = []
    media_dir.mkdir(parents=True, exist_ok=True)
    for data in images:
        raw = base64.b64decode(data)
        path = media_dir / f"{hashlib.sha256(owner_key.encode() + raw).hexdigest()[:32]}.png"
        if not path.exists():
            path.write_bytes(raw)
        out.append({"role": "assistant", "content": gr.Image(value=str(path), show_label=False)})
    return out


def to_chat_messages(
    messages: list[BaseMessage], media_dir: Path | None = None, owner_key: str = ""
) -> list[dict[str, Any]]:
    """Checkpointed LangChain messages -> Gradio chat messages (tool calls as collapsible panels)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, HumanMessage):
            if m.text.strip() != "/start":
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
            images = (m.additional_kwargs.get("run") or {}).get("images", [])
            if images and media_dir is not None:
                out += image_messages(images, media_dir, owner_key)
        elif isinstance(m, ToolMessage):
            out.append(
                {
                    "role": "assistant",
                    "content": m.text[:4000],
                    "metadata": {"title": f"📄 {m.name} result", "status": "done"},
                }
            )
    return out


def sidebar_html(report: dict[str, Any]) -> str:
    """Track, plan position, next step, a mastery bar per skill, reviews due and the weekly checklists."""
    profile = report["profile"]
    track = TRACK_NAMES.get(profile.get("track") or "", "not placed yet")
    parts = [
        f"<h3>{html.escape(track)}</h3>",
        f"<small>strategy: {html.escape(str(profile.get('strategy') or '—'))}</small><br>",
        f"<b>{html.escape(report.get('plan_position') or 'Intake')}</b><br>",
        f"<small>Next: {html.escape(report['next']['text'])}</small>",
        "<h4>Mastery</h4>",
    ]
    for skill, m in report["mastery"].items():
        pct = round(100 * m["p_known"])
        cls = "done" if m["mastered"] else ""
        parts.append(
            f"<small>{html.escape(skill)} · {pct}%</small>"
            f"<div class='bar' data-skill='{html.escape(skill)}'><div class='{cls}' style='width:{pct}%'></div></div>"
        )
    guided = (profile.get("guided") or {}) if isinstance(profile.get("guided"), dict) else {}
    if guided:
        parts.append("<h4>Lessons</h4>")
        for source, entry in guided.items():
            done, total = len(entry.get("done", [])), max(1, int(entry.get("total", 1)))
            pct = round(100 * done / total)
            name = source.split("/")[-1].removesuffix(".md")[3:].replace("_", " ")
            parts.append(
                f"<small>{html.escape(name)} · {done}/{total} sections</small>"
                f"<div class='bar' data-lesson='{html.escape(source)}'><div style='width:{pct}%'></div></div>"
            )
    due = report.get("reviews_due") or []
    parts.append(f"<h4>Reviews due</h4><small>{html.escape(', '.join(due)) if due else 'none'}</small>")
    for week, cp in report["checkpoints"].items():
        mark = " ✅" if cp["passed"] else ""
        items = "".join(
            f"<li>{'☑' if i['mastered'] else '☐'} {html.escape(i['checklist'])}</li>" for i in cp["checklist"]
        )
        parts.append(f"<h4>Week {week}{mark}</h4><ul style='list-style:none;padding-left:0'>{items}</ul>")
    return "\n".join(parts)


def _citation(c: dict) -> str:
    anchor = c.get("anchor") or ""
    source = c.get("source") or ""
    if not anchor and "#" in (c.get("heading") or ""):
        return c["heading"]  # a lesson example cites "path#anchor" as its heading
    return f"{source}#{anchor}" if anchor else source


RESUME = re.compile(r"^\s*/resume\s+(?P<code>\S+)\s*$")
NOT_RECOGNISED = "⚠️ This page's learner code is not valid on this server. Reload the page to start a new session."


def learner_of(session: TutorSession, stored: str | None, request: gr.Request | None) -> str | None:
    """The learner a request acts for: the login, else the browser's signed code; None for anything else."""
    username = getattr(request, "username", None) if request is not None else None
    if username:
        return f"user:{username}"
    return session.identity.learner(stored)


@dataclass
class Page:
    """The page's components: the chat column, the sidebar, and the browser's stored learner code."""

    learner_state: gr.BrowserState
    chatbot: gr.Chatbot
    options: gr.Radio
    textbox: gr.Textbox
    send: gr.Button
    stop: gr.Button
    restart: gr.Button
    socratic: gr.Checkbox
    sidebar: gr.HTML
    sources: gr.Dropdown
    viewer: gr.Markdown
    resume_code: gr.Textbox

    @property
    def chat_outputs(self) -> list:
        """What a chat turn updates, in the order `Handlers.respond` yields it."""
        return [self.chatbot, self.textbox, self.learner_state, self.options, self.sidebar, self.sources,
                self.resume_code]  # fmt: skip


def _header(session: TutorSession) -> None:
    """What this is and what to try; the model is a small status line, its details behind a fold."""
    gr.Markdown(f"## llm-tutor · LLMs and Transformers\n{INTRO}", elem_id="intro")
    with gr.Accordion(f"Model: {session.model_label}", open=False, elem_id="model-label"):
        if session.spec.is_embedded:
            gr.Markdown(EMBEDDED_NOTICE, elem_id="embedded-notice")
        else:
            gr.Markdown("Answers are written by this model from the course lessons, which it cites.")


def _chat_column(session: TutorSession) -> dict[str, Any]:
    """The conversation, the option / quick-reply buttons, the message box and the kernel controls."""
    parts: dict[str, Any] = {}
    parts["chatbot"] = gr.Chatbot(
        label="Tutor",
        height=560,
        elem_id="chat",
        placeholder="Ask about transformers, attention, RAG… or type /help",
        buttons=["copy"],
        feedback_options=None,
    )
    parts["options"] = gr.Radio(choices=[], visible=False, elem_id="options", interactive=True)
    with gr.Row():
        parts["textbox"] = gr.Textbox(
            placeholder="Type a message and press Enter",
            show_label=False,
            scale=8,
            autofocus=True,
            elem_id="message",
            max_length=session.settings.max_message_chars,
        )
        parts["send"] = gr.Button("Send", variant="primary", scale=1, elem_id="send")
    with gr.Row():
        parts["stop"] = gr.Button("Stop", scale=1, elem_id="stop")
        parts["restart"] = gr.Button("Restart kernel", scale=1, elem_id="restart")
    return parts


def _side_column(session: TutorSession) -> dict[str, Any]:
    """Socratic switch, progress, the sources of the last answer with the section viewer, resume code."""
    parts: dict[str, Any] = {}
    parts["socratic"] = gr.Checkbox(label="Socratic mode (guide me with questions)", elem_id="socratic")
    parts["sidebar"] = gr.HTML(elem_id="sidebar")
    parts["sources"] = gr.Dropdown(label="Sources of the last answer", choices=[], elem_id="sources")
    parts["viewer"] = gr.Markdown(elem_id="viewer")
    with gr.Accordion("Continue on another device", open=False, visible=not session.settings.auth):
        parts["resume_code"] = gr.Textbox(
            label="Your resume code (keep it private; type /resume CODE in another browser)",
            interactive=False,
            buttons=["copy"],
            elem_id="resume-code",
        )
    return parts


def _layout(session: TutorSession) -> Page:
    learner_state = gr.BrowserState("", storage_key="llm_tutor_learner", secret=session.identity.storage_secret())
    _header(session)
    with gr.Row():
        with gr.Column(scale=3):
            chat = _chat_column(session)
        with gr.Column(scale=1, min_width=260):
            side = _side_column(session)
    return Page(learner_state=learner_state, **chat, **side)


class Handlers:
    """What the page's events do. Every handler finds the learner from the signed code (or the login)."""

    def __init__(self, session: TutorSession) -> None:
        self.session = session
        self.model = LearnerModel(session.learners)
        self.media_dir = session.settings.data_dir / "media"

    def options_update(self, learner_id: str, messages: list[BaseMessage], pending: dict | None) -> dict:
        """Buttons under the chat: the options of a pending question, else the quick replies of the last
        answer (teaching moves, a check question's options)."""
        if pending:
            choices = pending.get("options") or []
            return gr.update(choices=choices, value=None, visible=bool(choices), label=pending.get("question"))
        choices = quick_replies(messages)
        if not choices and not self.model.profile(learner_id).get("track"):
            choices = ["Set up my plan"]
        return gr.update(choices=choices, value=None, visible=bool(choices), label="Quick replies")

    def page(self, learner_id: str) -> tuple[list[dict], dict]:
        """The chat as the server has it (plus the question the graph is waiting on) and the buttons
        under it, from one read of the checkpoint."""
        messages, pending = self.session.conversation(learner_id)
        history = to_chat_messages(messages, self.media_dir, self.session.identity.media_key(learner_id))
        if not history and pending is None:
            history = [{"role": "assistant", "content": WELCOME}]  # first visit: ask anything, intake offered
        if pending:
            if pending.get("intro") and not history:
                history.append({"role": "assistant", "content": pending["intro"]})
            for i, text in enumerate(pending.get("asked") or []):
                history.append({"role": "assistant" if i % 2 == 0 else "user", "content": text})
            history.append({"role": "assistant", "content": pending["question"]})
        return history, self.options_update(learner_id, messages, pending)

    def sidebar(self, learner_id: str) -> str:
        return sidebar_html(self.model.progress(learner_id))

    def on_load(self, stored: str, request: gr.Request):
        session = self.session
        learner_id = learner_of(session, stored, request)
        code = stored if learner_id and not getattr(request, "username", None) else ""
        if learner_id is None:  # first visit (or a code this server never issued): a new learner
            code = session.identity.issue()
            learner_id = session.identity.learner(code)
        session.learners.touch(learner_id)
        session.learners.count_visit(learner_id)
        socratic_on = bool(self.model.profile(learner_id).get("socratic"))
        history, buttons = self.page(learner_id)
        return history, code, buttons, self.sidebar(learner_id), gr.update(value=socratic_on), code

    def respond(self, message: str, stored: str, request: gr.Request) -> Iterator[tuple]:
        keep = gr.update()
        message = clean_text(message if isinstance(message, str) else "")  # lone surrogates break the stream
        resume = RESUME.match(message or "")
        if resume and not getattr(request, "username", None):
            yield from self.switch_learner(resume.group("code"), stored)
            return
        learner_id = learner_of(self.session, stored, request)
        issued = keep
        if learner_id is None and not stored and not getattr(request, "username", None):
            issued = self.session.identity.issue()  # an API client's first call: a new learner and its code
            learner_id = self.session.identity.learner(issued)
        if learner_id is None:
            yield [{"role": "assistant", "content": NOT_RECOGNISED}], "", keep, keep, keep, keep, keep
            return
        history = [*self.page(learner_id)[0], {"role": "user", "content": message}]
        hidden = gr.update(visible=False)
        # the sidebar changes only with the turn's outcome: drawn at the end (and at once for a new learner)
        side = self.sidebar(learner_id) if issued is not keep else keep
        yield history, "", issued, hidden, side, keep, issued
        turn = ChatTurn(history, self.media_dir, self.session.identity.media_key(learner_id))
        for event in self.session.stream_turn(learner_id, message, interactive=True):
            turn.add(event)
            yield history, "", keep, hidden, keep, keep, keep
        cited = turn.citations()
        source_update = gr.update(choices=cited, value=None) if cited else keep
        saved, buttons = self.page(learner_id)
        shown = history if turn.failed else saved  # a refusal is not in the checkpoint: keep it shown
        yield shown, "", issued, buttons, self.sidebar(learner_id), source_update, issued

    def switch_learner(self, code: str, stored: str) -> Iterator[tuple]:
        """`/resume CODE`: this browser continues as the learner the code belongs to."""
        keep = gr.update()
        learner_id = self.session.identity.learner(code)
        if learner_id is None:
            note = "⚠️ That resume code is not valid here. Copy it again from *Continue on another device*."
            current = learner_of(self.session, stored, None)
            history = self.page(current)[0] if current else []
            yield [*history, {"role": "assistant", "content": note}], "", keep, keep, keep, keep, keep
            return
        saved, buttons = self.page(learner_id)
        history = [*saved, {"role": "assistant", "content": "Welcome back: this is your conversation and "
                                                             "progress from the other device."}]  # fmt: skip
        yield history, "", code, buttons, self.sidebar(learner_id), keep, code

    @staticmethod
    def open_source(citation: str | None) -> str:
        """Show a cited section beside the chat."""
        from tools.lessons import open_lesson_text

        if not citation:
            return ""
        source, _, anchor = citation.partition("#")
        found = open_lesson_text(source, anchor or None)
        if "error" in found:
            return found["error"]
        return f"#### {found['heading']}\n`{found['citation']}`\n\n{found['text']}"

    def on_socratic(self, on: bool, stored: str, request: gr.Request) -> None:
        learner_id = learner_of(self.session, stored, request)
        if learner_id:
            self.session.learners.update_profile(learner_id, socratic=bool(on))

    def on_stop(self, stored: str, request: gr.Request) -> None:
        learner_id = learner_of(self.session, stored, request)
        if learner_id and self.session.kernels.has_session(learner_id):
            self.session.kernels.interrupt(learner_id)

    def on_restart(self, stored: str, request: gr.Request) -> list[dict]:
        learner_id = learner_of(self.session, stored, request)
        if learner_id is None:
            return [{"role": "assistant", "content": NOT_RECOGNISED}]
        note = self.session.kernels.restart(learner_id)
        return [*self.page(learner_id)[0], {"role": "assistant", "content": note}]


class ChatTurn:
    """One streamed turn drawn into the chat: tokens grow the answer, a node's final message replaces it,
    tool calls and results show as collapsible notes, errors as a warning line."""

    def __init__(self, history: list[dict], media_dir: Path, media_key: str) -> None:
        self.history, self.media_dir, self.media_key = history, media_dir, media_key
        self.answer: dict[str, Any] | None = None
        self.waiting = False  # the answer shown is the queued note, not text of the reply
        self.cited: list[str] = []
        self.failed = False

    def add(self, event) -> None:
        kind, history = event.kind, self.history
        if kind == "status":  # "the model is writing for 3 other learners": shown until the reply starts
            self.answer = {"role": "assistant", "content": event.text}
            history.append(self.answer)
            self.waiting = True
            return
        if kind == "token":
            if self.answer is None:
                self.answer = {"role": "assistant", "content": ""}
                history.append(self.answer)
            if self.waiting:
                self.answer["content"], self.waiting = "", False
            self.answer["content"] += event.text
            return
        if kind == "message":
            if self.answer is None:  # not streamed token by token (a command or a tool-free reply)
                history.append({"role": "assistant", "content": event.text})
            else:  # the node's final text replaces what was streamed (e.g. framing + quotes)
                self.answer["content"] = event.text
            history += image_messages(event.data.get("images", []), self.media_dir, self.media_key)
            self.cited += [_citation(c) for c in event.data.get("citations", [])]
        elif kind == "tool_call":
            note = {"title": f"🔧 {event.data['name']}", "status": "done"}
            history.append({"role": "assistant", "content": f"`{event.text}`", "metadata": note})
        elif kind == "tool_result":
            self.cited += [_citation(c) for c in event.data.get("citations", [])]
            note = {"title": f"📄 {event.data['name']} result", "status": "done"}
            history.append({"role": "assistant", "content": event.text[:4000], "metadata": note})
        elif kind == "interrupt":
            history.append({"role": "assistant", "content": event.text})
        elif kind == "error":
            if self.waiting and self.answer in history:
                history.remove(self.answer)  # the queued note is over
            self.failed = True
            history.append({"role": "assistant", "content": f"⚠️ {event.text}"})
        self.answer = None

    def citations(self) -> list[str]:
        return list(dict.fromkeys(c for c in self.cited if c))


def _wire(page: Page, handlers: Handlers, demo: gr.Blocks) -> None:
    """Events: page load, chat turns (typed or a button), sources, Socratic mode, Stop, Restart."""
    demo.load(
        handlers.on_load,
        inputs=[page.learner_state],
        outputs=[page.chatbot, page.learner_state, page.options, page.sidebar, page.socratic, page.resume_code],
        api_visibility="private",
    )
    page.sources.change(handlers.open_source, inputs=[page.sources], outputs=[page.viewer], api_visibility="private")
    page.socratic.input(handlers.on_socratic, inputs=[page.socratic, page.learner_state], api_visibility="private")
    chat_event = gr.on(
        triggers=[page.textbox.submit, page.send.click],
        fn=handlers.respond,
        inputs=[page.textbox, page.learner_state],
        outputs=page.chat_outputs,
        api_name="chat",
    )
    option_event = page.options.input(
        handlers.respond, inputs=[page.options, page.learner_state], outputs=page.chat_outputs,
        api_visibility="private",
    )  # fmt: skip
    page.stop.click(handlers.on_stop, inputs=[page.learner_state], cancels=[chat_event, option_event],
                    api_visibility="private")  # fmt: skip
    page.restart.click(handlers.on_restart, inputs=[page.learner_state], outputs=[page.chatbot],
                       api_visibility="private")  # fmt: skip


def build_ui(session: TutorSession) -> gr.Blocks:
    """The page: layout first, then the events that connect it to the session."""
    handlers = Handlers(session)
    with gr.Blocks(title="llm-tutor") as demo:
        page = _layout(session)
        _wire(page, handlers, demo)
    return demo


def launch(session: TutorSession, host: str, port: int, block: bool = True) -> gr.Blocks:
    from starlette.middleware import Middleware

    from tutor.guard import Guard
    from tutor.limits import RateLimiter

    settings = session.settings
    demo = build_ui(session)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    logins = RateLimiter(settings.logins_per_minute)
    guard = Middleware(Guard, max_body=settings.max_request_kb * 1024, max_upload=settings.max_upload_mb * 2**20,
                       logins=logins)  # fmt: skip
    demo.launch(
        server_name=host,
        server_port=port,
        auth=login_checker(settings.auth_pairs()),
        auth_message="Log in with the name and password your course organiser gave you.",
        prevent_thread_lock=not block,
        show_error=True,
        quiet=False,
        footer_links=[],
        allowed_paths=[str(settings.data_dir / "media")],
        max_file_size=settings.max_upload_mb * 2**20,
        app_kwargs={"middleware": [guard]},
        css=CSS,
    )
    return demo


def login_checker(pairs: list[tuple[str, str]]):
    """Gradio's auth callback: constant-time password comparison (rate limits are in the guard)."""
    if not pairs:
        return None
    import hmac

    logins = dict(pairs)

    def check(username: str, password: str) -> bool:
        expected = logins.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), (password or "").encode())

    return check
