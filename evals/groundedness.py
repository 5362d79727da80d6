"""Groundedness of the embedded model's answers: share of answer lines supported by a cited chunk, and
citation precision (cited sections that the retrieval labels say answer the question)."""

from __future__ import annotations

import uuid

from tutor.config import Settings

N_QUESTIONS = 40


def run(settings: Settings | None = None, n: int = N_QUESTIONS) -> dict:

    from evals.retrieval import load_cases
    from tutor.retrieval.search import get_searcher
    from tutor.session import TutorSession

    settings = (settings or Settings()).model_copy(update={"model": "embedded"})
    session = TutorSession(settings)
    searcher = get_searcher(settings)
    texts = {m.get("source", "") + "#" + m.get("anchor", ""): "" for m in searcher.metas}
    for doc, meta in zip(searcher.docs, searcher.metas, strict=True):
        texts[meta["source"] + "#" + meta.get("anchor", "")] += "\n" + doc
    supported = lines = cited_right = cited = 0
    cases = load_cases()[:n]
    learner = f"grounding-{uuid.uuid4().hex[:8]}"  # a fresh learner: no pending quiz or intake
    try:
        session.learners.update_profile(learner, track="data_scientist", strategy="theory_first")
        for case in cases:
            result = session.run_turn(learner, case.question)
            citations = [f"{c['source']}#{c.get('anchor', '')}" for c in _citations(session, learner)]
            source_text = " ".join(texts.get(c, "") for c in citations)
            quoted = [ln for ln in result["answer"].splitlines() if ln.startswith("> ") and ln[2:].strip()]
            for line in quoted:  # every quoted line must be course text of a cited section
                lines += 1
                supported += line[2:].strip(" …") in source_text
            cited += len(citations)
            cited_right += sum(c in case.sections for c in citations)
    finally:
        session.close()
    return {
        "suite": "groundedness",
        "model": "embedded",
        "n": len(cases),
        "supported_line_share": round(supported / max(lines, 1), 4),
        "citation_precision": round(cited_right / max(cited, 1), 4),
    }


def _citations(session, learner: str) -> list[dict]:
    last = session.history(learner)[-1]
    return last.additional_kwargs.get("citations", [])
