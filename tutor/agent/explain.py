"""Grounded explanations for the embedded model: the body is course text, quoted and cited.

The small model only writes one connective sentence, generated while retrieval runs. That sentence is
kept only if every content word in it comes from the learner's question or the quoted course text (a
lexical grounding check); otherwise a fixed framing is used. So nothing the model invents is shown as
course fact.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage

from tools.quiz.grading import FUNCTION_WORDS
from tutor.agent.prompts import FRAMING_SYSTEM

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from tutor.retrieval.search import Hit

FALLBACK = "Here is how the course explains it:"
_CONNECTIVE = (
    "here is how what the course says explains explain let's lets look at great good question about your you "
    "this that topic show shows me us see let take a an of on to and in with for is are it"
)
CONNECTIVE = frozenset(_CONNECTIVE.split())
MAX_QUOTE_CHARS = 1400
TRACK_PREFERENCE = {
    # engineers: code first; product managers: intuition without code; researchers: the math
    "software_engineer": lambda h: "```" in h.text,
    "product_manager": lambda h: "```" not in h.text and not re.search(r"[=√∑]|\bsoftmax\(", h.text),
    "ml_researcher": lambda h: bool(re.search(r"[=√∑^]|\bformula\b|\bpaper\b|et al\.", h.text)),
    "data_scientist": lambda h: False,
}


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9_'-]+", text.lower()) if w not in FUNCTION_WORDS and len(w) > 2}


def grounded(sentence: str, question: str, sources: str) -> bool:
    """Every content word of the sentence appears in the question, the quoted text or connective words;
    no numbers; one short sentence."""
    if not sentence or re.search(r"\d", sentence) or len(sentence.split()) > 25:
        return False
    allowed = _content_words(question) | _content_words(sources) | CONNECTIVE
    return _content_words(sentence) <= allowed


def choose_sections(hits: list[Hit], track: str | None, n: int = 2) -> list[Hit]:
    """Best hits first, nudged toward what suits the track; one chunk per section."""
    prefer = TRACK_PREFERENCE.get(track or "", lambda h: False)
    ranked = sorted(hits, key=lambda h: h.score * (1.25 if prefer(h) else 1.0), reverse=True)
    chosen, seen = [], set()
    for hit in ranked:
        if hit.citation not in seen:
            chosen.append(hit)
            seen.add(hit.citation)
        if len(chosen) == n:
            break
    return chosen


def quote(hit: Hit) -> str:
    text = hit.text.strip()
    if len(text) > MAX_QUOTE_CHARS:
        cut = text.rfind("\n\n", 0, MAX_QUOTE_CHARS)
        text = text[: cut if cut > 400 else MAX_QUOTE_CHARS].rstrip() + "\n\n…"
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
    return f"**{hit.heading}** · `{hit.citation}`\n\n{quoted}"


def explain(
    question: str, model: BaseChatModel, search, track: str | None, socratic: bool = False
) -> tuple[str, list[Hit]]:
    """(answer markdown, hits quoted). `search(question) -> list[Hit]` runs while the model frames."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(search, question)
        framing = model.invoke(
            [SystemMessage(FRAMING_SYSTEM), HumanMessage(question[:500])], config={"tags": ["framing"]}
        ).text.strip()
        hits = pending.result()
    if not hits:
        return ("I could not find this in the course. Try other words, or `/lesson` to browse the lessons.", [])
    chosen = choose_sections(hits, track)
    first = re.split(r"(?<=[.!?])\s", framing, maxsplit=1)[0] if framing else ""
    intro = first if grounded(first, question, " ".join(h.text for h in chosen)) else FALLBACK
    if socratic:  # guide: the opening of the best section, then a question back to the learner
        first_para = chosen[0].text.strip().split("\n\n")[0]
        topic = chosen[0].heading.split(" > ")[-1]
        return (
            f"{intro}\n\n{lead(chosen[0], first_para)}\n\n**Your turn:** in your own words, how would you "
            f"explain *{topic}*? Reply and we will compare it with the course (`/socratic off` shows the full "
            "sections).",
            chosen[:1],
        )
    body = "\n\n".join(quote(h) for h in chosen)
    return f"{intro}\n\n{body}", chosen


def lead(hit: Hit, paragraph: str) -> str:
    quoted = "\n".join(f"> {line}" for line in paragraph.splitlines())
    return f"**{hit.heading}** · `{hit.citation}`\n\n{quoted}"
