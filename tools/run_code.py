"""run_code and run_lesson_example: the learner's code (or a lesson's snippet) in their own kernel."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime

from tools.kernel import KernelService, NoKernelService, RunResult
from tools.lessons import find_lesson

FENCED = re.compile(r"```(?:python|py|python3)?[^\n]*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str | None:
    """Code from a `/run ...` command or the fenced blocks of a message (joined in order)."""
    stripped = text.strip()
    if stripped.startswith("/run"):
        rest = stripped[len("/run") :].strip()
        blocks = FENCED.findall(rest)
        return "\n".join(blocks) if blocks else (rest or None)
    blocks = FENCED.findall(text)
    return "\n".join(b.strip("\n") for b in blocks) if blocks else None


def format_result(result: RunResult, max_chars: int = 4000) -> str:
    """Markdown for the chat (and for a model reading the output)."""
    parts = [f"**{result.status}** · {result.elapsed_s:.2f} s"]
    if result.stdout:
        parts.append(f"```text\n{result.stdout[:max_chars]}\n```")
    if result.stderr:
        parts.append(f"stderr:\n```text\n{result.stderr[:max_chars]}\n```")
    if result.result is not None:
        parts.append(f"Result: `{result.result[:max_chars]}`")
    if result.images:
        parts.append(f"{len(result.images)} image(s) shown below.")
    if result.error:
        parts.append(f"**{result.error['ename']}**: {result.error['evalue']}")
    if result.notice:
        parts.append(f"_{result.notice}_")
    return "\n\n".join(parts)


def kernels_of(context: Any) -> KernelService:
    """The session's kernel service from a graph `Context`; a clear error when the context has none
    (rather than kernels under some default directory the session never chose)."""
    kernels = getattr(context, "kernels", None)
    if kernels is None:
        raise NoKernelService(
            "No kernel service is configured for this graph run: pass Context(kernels=...) "
            "(TutorSession does, from its own settings)."
        )
    return kernels


def lesson_example(lesson_query: str, section: str | None = None) -> tuple[str, str] | None:
    """The runnable code of a lesson section (or the whole lesson) and its citation."""
    lesson = find_lesson(lesson_query)
    if lesson is None:
        return None
    blocks = [b for b in lesson.code_blocks if b.runnable]
    anchor = ""
    if section:
        wanted = section.strip().lstrip("#").lower()
        match = next((s for s in lesson.sections if wanted in (s.anchor, s.heading.lower())), None)
        if match is None:
            match = next((s for s in lesson.sections if wanted in s.heading.lower()), None)
        if match is not None:
            anchor = match.anchor
            in_section = [b for b in blocks if b.section_anchor == anchor]
            # a section's example may rely on earlier blocks of the lesson: run everything up to it
            if in_section:
                last = blocks.index(in_section[-1])
                blocks = blocks[: last + 1]
    if not blocks:
        return None
    citation = f"{lesson.source}#{anchor}" if anchor else lesson.source
    return "\n\n".join(b.code for b in blocks), citation


def _session_id(runtime: ToolRuntime) -> str:
    state = runtime.state or {}
    return str(state.get("learner_id") or runtime.config.get("configurable", {}).get("thread_id", "default"))


@tool(response_format="content_and_artifact")
def run_code(code: str, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Run Python code in the learner's own Jupyter kernel (variables persist between runs, like a
    notebook). Returns stdout, the result, errors and images."""
    if not code or not code.strip():
        return "run_code needs some code to run.", {}
    result = kernels_of(runtime.context).run(_session_id(runtime), code)
    return format_result(result), {"run": result.as_dict(), "code": code}


@tool(response_format="content_and_artifact")
def run_lesson_example(lesson: str, runtime: ToolRuntime, section: str | None = None) -> tuple[str, dict]:
    """Run the example code of a lesson (optionally of one section) in the learner's kernel."""
    found = lesson_example(lesson, section)
    if found is None:
        return f"No runnable example found in {lesson!r}{f' > {section!r}' if section else ''}.", {}
    code, citation = found
    result = kernels_of(runtime.context).run(_session_id(runtime), code)
    return f"Ran the example of {citation}.\n\n{format_result(result)}", {
        "run": result.as_dict(),
        "code": code,
        "citations": [{"source": citation.split("#")[0], "heading": citation}],
    }
