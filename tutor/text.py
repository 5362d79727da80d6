"""Sentences and the best-matching sentence: the one splitter and matcher grading, placement, the
teaching checks and the evals share, so a fix to either reaches all of them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_MARKUP = re.compile(r"[*`>#]")


def sentences(
    text: str,
    *,
    semicolons: bool = True,
    colons: bool = False,
    markup: bool = False,
    min_chars: int = 1,
    fallback: bool = True,
) -> list[str]:
    """The sentences of `text` (also split at line breaks).

    semicolons / colons  also end a sentence there (a learner's "X; Y" states two things)
    markup               strip markdown emphasis, code ticks, quotes and headings first
    min_chars            drop pieces this short or shorter ("e.g.", list bullets)
    fallback             the whole text when nothing is left, so a one-word answer is still matched"""
    if markup:
        text = _MARKUP.sub(" ", text)
    ends = "[.!?;]" if semicolons else "[.!?]"
    pattern = rf"(?<={ends})\s+|\n+" + (r"|(?<=:)\s+" if colons else "")
    parts = [p.strip() for p in re.split(pattern, text) if len(p.strip()) >= min_chars]
    return parts or ([text.strip()] if fallback else [])


def best_cosine(targets: np.ndarray, sentence_vectors: np.ndarray) -> np.ndarray:
    """For each target vector, its best cosine to any of the sentences (rows unit-normalised, as the
    MiniLM embedder returns them). Similarity of a whole answer blurs a right sentence with the rest;
    the best sentence is what a reader would point at."""
    import numpy as np  # lazily: `tutor --help` does not need it

    if not len(sentence_vectors) or not len(targets):
        return np.zeros(len(targets))
    return (np.atleast_2d(targets) @ np.atleast_2d(sentence_vectors).T).max(axis=1)
