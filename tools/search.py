"""search_curriculum: the agent's way into the course, returning quotable text with citations."""

from __future__ import annotations

import numpy as np
from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime

from tutor.config import Settings, get_settings
from tutor.retrieval.search import Hit, get_searcher
from tutor.retrieval.store import IndexError_

MAX_K = 8


def search_curriculum_hits(
    query: str,
    k: int = 4,
    week: int | None = None,
    module: str | None = None,
    settings: Settings | None = None,
    vector: np.ndarray | None = None,
) -> list[Hit]:
    """The same hybrid search as `tutor search`, bounded for prompts; `vector` is the query's embedding
    when the caller already has it."""
    k = max(1, min(int(k), MAX_K))
    return get_searcher(settings or get_settings()).search(query, k=k, vector=vector, week=week, module=module)


def format_hits(hits: list[Hit]) -> str:
    """Retrieved text as data, one <course> block per chunk, each with the citation to use."""
    return "\n\n".join(f'<course source="{h.citation}" heading="{h.heading}">\n{h.text}\n</course>' for h in hits)


@tool(response_format="content_and_artifact")
def search_curriculum(query: str, runtime: ToolRuntime, k: int = 4, week: int | None = None) -> tuple[str, dict]:
    """Search the course lessons and notebooks. Returns the most relevant sections with citations
    (source#anchor). Use it before explaining any course topic, and cite what you use."""
    if not query or not query.strip():
        return "search_curriculum needs a non-empty query.", {"citations": []}
    try:
        settings = getattr(runtime.context, "settings", None)
        hits = search_curriculum_hits(query, k=k, week=week, settings=settings)
    except IndexError_ as exc:
        return f"The course index is not available: {exc}", {"citations": []}
    if not hits:
        return "No course section matches that query.", {"citations": []}
    citations = [{"source": h.source, "heading": h.heading, "anchor": h.anchor} for h in hits]
    return format_hits(hits), {"citations": citations}
