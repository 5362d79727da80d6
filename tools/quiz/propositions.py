"""What sentence similarity cannot see in a short answer: swapped roles, wrong numbers, known false variants.

A rubric point may carry `links` (roles that must stay paired: queries with the decoder, not the encoder),
`numbers` (a value the answer must state, with a relative tolerance) and `wrong` (fluent false statements
that sound like the point: the swap, the negation, the lesson's misconception). Each check here is a
reason to fail a point the similarity grader would pass; none can pass a point by itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tutor.curriculum.schema import Link, NumberCheck
from tutor.text import sentences

NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?|\.\d+)\s*(k|m|b|thousand|million|billion|%|percent|x|×)?(?![\w])",
    re.IGNORECASE,
)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
CLAUSE = re.compile(r";\s+|\s+(?:while|whereas|but|and then)\s+|(?<=[.!?])\s+(?=[A-Z])")
WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "sixteen": 16, "twenty": 20, "hundred": 100,
}  # fmt: skip


def written_numbers(text: str) -> list[float]:
    """The numbers written in digits, in the order written: "30,000", "30k", "2.18", "1.5e4", "1.5 million"."""
    return [float(d.replace(",", "")) * SCALE.get((u or "").lower(), 1.0) for d, u in NUMBER.findall(text)]


def numbers_in(text: str) -> list[float]:
    """Every number an answer states: the written ones and number words ("twelve")."""
    words = [float(v) for w, v in WORDS.items() if re.search(rf"\b{w}\b", text, re.IGNORECASE)]
    return written_numbers(text) + words


def number_ok(checks: list[NumberCheck], text: str) -> bool:
    """The answer states one of the point's numbers (within its relative tolerance)."""
    stated = numbers_in(text)
    return any(abs(v - c.value) <= max(c.tolerance * abs(c.value), 1e-9) for c in checks for v in stated)


QUALIFIER = r"-(?:only|style|side|based|like|type)\b"  # "decoder-only" is the decoder; "encoder-decoder" is neither


def _mentions(clause: str, term: str) -> list[int]:
    """Where a term starts in a clause: words match as prefixes ("quer" finds "queries"), code fragments
    (":-1") as written; a word inside a hyphenated compound ("encoder" in "encoder-decoder") does not count,
    one with a qualifier ("encoder-only", "decoder-style") does."""
    term = term.lower().strip()
    tail = r"[\w']*" if term[-1:].isalnum() else ""
    lead = r"(?<![\w-])" if term[:1].isalnum() else ""
    pattern = lead + re.escape(term) + tail + rf"(?:{QUALIFIER}|(?!-\w))"
    return [m.start() for m in re.finditer(pattern, clause.lower())]


def swapped(link: Link, text: str) -> bool:
    """In some clause, `a` sits closer to `not_b` than to `b` (or only `not_b` is there): the roles are
    swapped ("queries come from the encoder")."""
    for clause in CLAUSE.split(text):
        for at in _mentions(clause, link.a):
            right = [abs(p - at) for p in _mentions(clause, link.b)]
            wrong = [abs(p - at) for p in _mentions(clause, link.not_b)]
            if wrong and (not right or min(wrong) < min(right)):
                return True
    return False


def link_violation(links: list[Link], text: str) -> Link | None:
    return next((link for link in links if swapped(link, text)), None)


def near_copy(text: str, statement: str, ratio: float = 0.93) -> bool:
    """Some sentence of the text is (almost) word for word the statement: a known false variant written
    out by the learner fails its point even where sentence vectors cannot tell it from the point."""
    from difflib import SequenceMatcher

    target = re.findall(r"[\w.:\[\]/-]+", statement.lower())
    for sentence in [text, *sentences(text, fallback=False)]:
        words = re.findall(r"[\w.:\[\]/-]+", sentence.lower())
        if words and SequenceMatcher(None, words, target).ratio() >= ratio:
            return True
    return False


# An answer sentence this close, word for word, to a sentence of the reference is a copy of it; where the copy
# differs on a word the rubric point is about, the difference is what the learner chose to say (the reference
# with one detail changed is the most fluent wrong answer there is, and sentence vectors score it as the point).
EDIT_NEAR = 0.7
NEGATION_WORDS = frozenset({"not", "no", "never", "nor", "neither", "none", "cannot", "without", "instead", "rather"})
TOKEN = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?%?|[\w.:\[\]/%-]+")  # "30,000" is one token


@dataclass(frozen=True)
class Edit:
    """How an answer sentence departs from the reference sentence it copies."""

    kind: str  # number | negation | swap | changed
    said: str
    reference: str


def _tokens(text: str) -> list[str]:
    text = re.sub(r"n't\b", " not", text.lower()).replace("can not", "cannot")
    return [t.rstrip(".:") for t in TOKEN.findall(text) if t.rstrip(".:")]


def edit_of(sentence: str, reference: str, point_stems: set[str], stem) -> Edit | None:
    """The substantive edit of a near-copy of `reference` (None when it is no copy, or when it only leaves
    words out, adds some, or swaps a word the point is not about: a shorter, fuller or reworded copy says
    the same thing). `point_stems`: stems of the point's words and key terms; `stem`: the stemmer."""
    from difflib import SequenceMatcher

    said, ref = _tokens(sentence), _tokens(reference)
    if not said or not ref:
        return None
    matcher = SequenceMatcher(None, said, ref, autojunk=False)
    if matcher.ratio() < EDIT_NEAR:
        return None
    if sum(t in NEGATION_WORDS for t in said) != sum(t in NEGATION_WORDS for t in ref):
        return Edit("negation", sentence, reference)
    said_set, ref_set = set(said), set(ref)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue  # words left out or added
        mine, theirs = " ".join(said[i1:i2]), " ".join(ref[j1:j2])
        lost_numbers = set(written_numbers(theirs)) - set(written_numbers(sentence))
        if lost_numbers and set(written_numbers(mine)) - set(written_numbers(reference)):
            return Edit("number", sentence, reference)  # "13K" where the reference has "131K"
        lost = [t for t in ref[j1:j2] if t not in said_set and stem(t) in point_stems]
        new = [t for t in said[i1:i2] if t not in ref_set and not re.fullmatch(r"[\d.,()]+", t)]
        if lost and new:
            return Edit("changed", sentence, reference)  # "lowest-ranked first" where it says "best first"
    keyed = [t for t in said if t in ref_set and stem(t) in point_stems]
    in_order = [t for t in ref if t in said_set and stem(t) in point_stems]
    if len(set(keyed)) >= 2 and sorted(keyed) == sorted(in_order) and keyed != in_order:
        return Edit("swap", sentence, reference)  # the point's own words in another order: "keys ask, queries offer"
    return None


MISCONCEPTION_CLAIM = re.compile(r'^- \*\*"(?P<claim>[^"]+?)[.?!]?"\*\*', re.MULTILINE)


def lesson_misconceptions(section: str) -> list[str]:
    """The claims a lesson warns against, from its "Common misconceptions" part ("FlashAttention is an
    approximation of attention"), for the lesson of an item's `section` ("path.md#anchor")."""
    return list(_misconceptions(section.split("#", 1)[0]))


@functools.lru_cache(maxsize=64)
def _misconceptions(source: str) -> tuple[str, ...]:
    from tutor.paths import knowledge_dir

    path = knowledge_dir() / source
    if not path.is_file():
        return ()
    text = path.read_text()
    part = re.split(r"^## Common misconceptions\s*$", text, maxsplit=1, flags=re.MULTILINE)
    if len(part) < 2:
        return ()
    body = re.split(r"^## ", part[1], maxsplit=1, flags=re.MULTILINE)[0]
    return tuple(m.group("claim").strip() for m in MISCONCEPTION_CLAIM.finditer(body))
