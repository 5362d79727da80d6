"""Teaching moves over the course's own passages: which one or two paragraphs serve this move, for this
topic, for this learner's track, that the learner has not just been shown.

Pure selection (vectors in, passages out); the graph node turns the result into a reply and state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tutor.teaching.passages import Passage, PassageIndex

MAX_QUOTE_CHARS = 900  # a focused answer: one or two paragraphs, the citation opens the full section
DEFINITION_MARGIN = 0.05  # "what is X?": passages this close to the best count as equally good
SHORT_PASSAGE = 320  # below this the next paragraph of the same section is added
TEACHABLE = ("intro", "intuition", "mechanism", "example", "code")
MATH = re.compile(r"[=√∑^]|sqrt|softmax\(|\bO\(|formula|log ")
MOVE_ROLES: dict[str, tuple[str, ...]] = {
    "explain": TEACHABLE,
    "simpler": ("intuition", "intro", "mechanism"),
    "example": ("example", "code", "mechanism"),
    "why": ("mechanism", "intuition", "intro"),
    "misconception": ("misconception",),
}


@dataclass
class Selection:
    """Passages chosen for a move, best first."""

    passages: list[Passage] = field(default_factory=list)

    @property
    def lead(self) -> Passage | None:
        return self.passages[0] if self.passages else None


def track_bonus(p: Passage, track: str | None, move: str) -> float:
    """Fit the passage to the learner: code for engineers, math for researchers, no code for managers."""
    if track == "product_manager":
        return -0.12 if p.has_code else (0.04 if p.role in ("intuition", "intro") else 0.0)
    if track == "software_engineer":
        return 0.05 if p.has_code and move in ("example", "explain") else 0.0
    if track == "ml_researcher":
        return 0.04 if MATH.search(p.text) and move in ("why", "explain") else 0.0
    return 0.0


def rank(
    index: PassageIndex,
    vector: np.ndarray,
    move: str,
    *,
    lesson: str | None = None,
    track: str | None = None,
    shown: set[int] | None = None,
    section_bonus: dict[str, float] | None = None,
) -> list[tuple[float, Passage]]:
    """Candidates for a move, scored: cosine to the query, plus retrieval agreement, role and track fit."""
    roles = MOVE_ROLES.get(move, TEACHABLE)
    pool = index.by_lesson.get(lesson, []) if lesson else index.passages
    sims = index.similarities(vector)
    shown = shown or set()
    scored = []
    for p in pool:
        if p.role not in roles or len(p.text) < 40:
            continue
        score = float(sims[p.id])
        score += (section_bonus or {}).get(p.citation, 0.0)
        score += track_bonus(p, track, move)
        if move == "why" and p.heading.lower().startswith("why"):
            score += 0.06
        if move == "example" and p.role == "example":
            score += 0.08
        if move == "simpler" and p.role in ("intuition", "intro"):
            score += 0.06
        if p.id in shown:
            score -= 0.5  # never the same paragraph twice in a row, unless nothing else is left
        scored.append((score, p))
    return sorted(scored, key=lambda sp: sp[0], reverse=True)


def extend(index: PassageIndex, lead: Passage, limit: int = MAX_QUOTE_CHARS) -> list[Passage]:
    """The lead passage plus the following ones of its section while they fit (a short paragraph rarely
    stands alone; an example's set-up needs its computation)."""
    chosen = [lead]
    siblings = [p for p in index.by_lesson[lead.lesson] if p.anchor == lead.anchor and p.order > lead.order]
    total = len(lead.text)
    for p in siblings:
        if total >= SHORT_PASSAGE and lead.role != "example":
            break
        if total + len(p.text) > limit and total >= SHORT_PASSAGE:
            break
        chosen.append(p)
        total += len(p.text)
    return chosen


def select(
    index: PassageIndex,
    vector: np.ndarray,
    move: str,
    *,
    lesson: str | None = None,
    track: str | None = None,
    shown: set[int] | None = None,
    section_bonus: dict[str, float] | None = None,
    intuition_first: bool = False,
    definition: list[str] | None = None,
) -> Selection:
    """The passages a move quotes. Misconceptions: the two closest items. Others: one paragraph (plus
    its continuation when short); a new topic may lead with the lesson's intuition paragraph."""
    ranked = rank(index, vector, move, lesson=lesson, track=track, shown=shown, section_bonus=section_bonus)
    if not ranked:
        return Selection()
    best_score, best = ranked[0]
    if definition:
        best = earliest(index, ranked, definition)
    if move == "misconception":
        same = [p for _s, p in ranked if p.lesson == best.lesson]
        return Selection(same[:2])
    if intuition_first and best.role not in ("intuition", "intro"):
        gentle = next(
            (
                p
                for s, p in ranked
                if p.lesson == best.lesson and p.role in ("intuition", "intro") and s >= best_score - 0.06
            ),
            None,
        )
        if gentle is not None and len(gentle.text) + len(best.text) <= MAX_QUOTE_CHARS + 200:
            return Selection([gentle, best])
    return Selection(extend(index, best))


def earliest(index: PassageIndex, ranked: list[tuple[float, Passage]], terms: list[str]) -> Passage:
    """For "what is X?": of the passages about as good as the best (within DEFINITION_MARGIN) that name X
    (every word of `terms`), the one from the earliest lesson in course order. The course introduces a
    concept before it builds on it (attention before multi-head attention), so the first lesson is where a
    newcomer should start; a passage that never names X is only near it ("an embeding" is not RAG's intro)."""
    best_score = ranked[0][0]
    position = {source: i for i, source in enumerate(index.order)}
    close = [(position.get(p.lesson, len(position)), -s, i) for i, (s, p) in enumerate(ranked)
             if i == 0 or (s >= best_score - DEFINITION_MARGIN and names(p, terms))]  # fmt: skip
    return ranked[min(close)[2]][1]


def names(p: Passage, terms: list[str]) -> bool:
    """Does the passage (or its heading) use every term, in any simple inflection?"""
    text = f"{p.heading} {p.text}".lower()
    return all(re.search(r"\b" + re.escape(t.removesuffix("s")), text) for t in terms)


def next_section(index: PassageIndex, lesson: str, anchor: str) -> list[Passage]:
    """The first passages of the section after `anchor`. The lesson's common misconceptions are its last
    part to read; only the self-check questions are skipped (they are asked, not quoted)."""
    passages = [p for p in index.by_lesson.get(lesson, []) if p.role in (*TEACHABLE, "misconception")]
    anchors = list(dict.fromkeys(p.anchor for p in passages))
    later = anchors[anchors.index(anchor) + 1 :] if anchor in anchors else anchors
    for a in later:
        first = next(p for p in passages if p.anchor == a)
        return extend(index, first)
    return []


def related_lesson(index: PassageIndex, lesson: str, forward: bool = False) -> str | None:
    """The one lesson to read next or alongside. "After this" (`forward`): the next lesson of the same
    module, else the next in course order. "Related": the closest lesson in content within the module,
    else the next in course order. One recommendation, not a list to choose from."""
    order = index.order
    at = order.index(lesson) if lesson in order else -1
    following = order[at + 1] if 0 <= at < len(order) - 1 else None
    module = lesson.split("/")[0]
    if forward and following and following.startswith(module + "/"):
        return following
    here = index.lesson_vectors.get(lesson)
    later = set(order[at + 1 :]) if forward and at >= 0 else set(order)
    if here is not None:
        sims = sorted(((float(v @ here), s) for s, v in index.lesson_vectors.items() if s != lesson), reverse=True)
        same_module = [s for _sim, s in sims if s.startswith(module + "/") and s in later]
        if same_module:
            return same_module[0]
    return following


def nearest_lessons(index: PassageIndex, vector: np.ndarray, n: int = 2, floor: float = 0.2) -> list[str]:
    """Lessons with the passages closest to a question (for "not covered, but see ...")."""
    sims = index.similarities(vector)
    best: dict[str, float] = {}
    for p in index.passages:
        best[p.lesson] = max(best.get(p.lesson, -1.0), float(sims[p.id]))
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    return [s for s, v in ranked[:n] if v >= floor]


def scope_score(index: PassageIndex, vector: np.ndarray) -> float:
    """How well the course covers a question: the best cosine over its teachable passages."""
    ids = index.teachable_ids
    return float(index.similarities(vector)[ids].max()) if len(ids) else 0.0


# "llm-written", "human-labelled": a known word qualified by a participle is a description, not a new term.
PARTICIPLE = re.compile(r"[a-z]{3,}(ed|en)")
GENERIC_SUFFIXES = ("type", "style", "like", "based", "sized", "size", "level", "specific", "friendly", "only", "wise")
GENERIC_PREFIXES = ("auto", "self", "multi", "non", "pre", "re", "semi", "sub", "co", "cross", "over", "under")


def known(word: str, vocabulary: frozenset[str], text: str = "") -> bool:
    """A word the course uses, in any simple inflection ("papers", "tokenizing", "fairer"). A compound is known when
    the course writes it (with spaces or hyphens: "repair-and-retry") or it is a known word with a generic
    suffix ("bert-type", "gpt-2"); "text-to-speech" is not, though each part is."""
    if re.fullmatch(r"[\d.]+", word):
        return True
    if "-" in word:
        parts = [part for part in word.split("-") if part] or [word]
        if parts[-1] in GENERIC_SUFFIXES or re.fullmatch(r"[\d.]+", parts[-1]) or PARTICIPLE.fullmatch(parts[-1]):
            return all(known(part, vocabulary) for part in parts[:-1])
        if len(parts) == 2 and parts[0] in GENERIC_PREFIXES:  # "auto-tag", "re-rank": a known word, prefixed
            return known(parts[1], vocabulary)
        return bool(text) and re.search(r"[\s-]+".join(map(re.escape, parts)), text) is not None
    forms = {word, word.removesuffix("s"), word.removesuffix("es"), word.removesuffix("ing"),
             word.removesuffix("ed"), word.removesuffix("ing") + "e", word.removesuffix("ed") + "e",
             word.removesuffix("er"), word.removesuffix("est"), word.removesuffix("r"),
             word.removesuffix("st")}  # fmt: skip
    return any(f in vocabulary for f in forms if len(f) > 1)


def unknown_terms(
    text: str, vocabulary: frozenset[str], words: list[str], course_text: str = ""
) -> tuple[list[str], list[str]]:
    """(content words the course never uses, of which the distinctive ones: acronyms written in capitals,
    hyphenated compounds, names in the possessive ("mamba's"))."""
    missing = [w for w in words if not known(w.removesuffix("'s"), vocabulary, course_text)]
    # three letters or more: two-letter ones are everyday words (UI, HR, AI), not a subject of their own
    capitals = {m.lower() for m in re.findall(r"\b[A-Z][A-Z0-9]{2,6}\b", text)}
    distinctive = [w for w in missing if w.removesuffix("'s") in capitals or "-" in w or w.endswith("'s")]
    return missing, distinctive
