"""What sentence similarity cannot see in a short answer: swapped roles, wrong numbers, known false variants.

A rubric point may carry `links` (roles that must stay paired: queries with the decoder, not the encoder),
`numbers` (a value the answer must state, with a relative tolerance) and `wrong` (fluent false statements
that sound like the point: the swap, the negation, the lesson's misconception). Each check here is a
reason to fail a point the similarity grader would pass; none can pass a point by itself.
"""

from __future__ import annotations

import re

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
