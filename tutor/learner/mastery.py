"""Bayesian knowledge tracing per checkpoint skill.

Standard BKT (Corbett & Anderson, 1995): a skill is either known or not; an answer updates P(known)
by Bayes' rule with slip and guess probabilities, then the learner may learn with probability `learn`:

    P(L | correct) = P(L)(1 - S) / (P(L)(1 - S) + (1 - P(L)) G)
    P(L | wrong)   = P(L) S      / (P(L) S      + (1 - P(L)) (1 - G))
    P(L next)      = P(L | obs) + (1 - P(L | obs)) T

Guess depends on the item type: a 4-option multiple-choice item is guessed right a quarter of the time,
a short answer rarely, a code exercise that passes hidden tests almost never.
"""

from __future__ import annotations

from dataclasses import dataclass

MASTERED = 0.95


@dataclass(frozen=True)
class BKTParams:
    prior: float  # P(L0): known before any evidence
    learn: float  # T: chance to learn from one practice opportunity
    slip: float  # S: knows it but answers wrong
    guess: float  # G: does not know it but answers right


# Documented defaults (README "Mastery"): one prior and learn rate for every skill, slip/guess per type.
PRIOR = 0.15
LEARN = 0.15
PARAMS: dict[str, BKTParams] = {
    "mcq": BKTParams(PRIOR, LEARN, slip=0.10, guess=0.25),
    "short": BKTParams(PRIOR, LEARN, slip=0.10, guess=0.10),
    "code": BKTParams(PRIOR, LEARN, slip=0.15, guess=0.05),
    "numeric": BKTParams(PRIOR, LEARN, slip=0.15, guess=0.02),  # arithmetic slips; a number is rarely guessed
    "exercise": BKTParams(PRIOR, LEARN, slip=0.15, guess=0.05),  # code run outside a quiz
    "self": BKTParams(PRIOR, LEARN, slip=0.20, guess=0.40),  # partly self-assessed: weaker evidence
}


def posterior(p_known: float, correct: bool, params: BKTParams) -> float:
    """P(known | this observation), before the learning transition."""
    s, g = params.slip, params.guess
    if correct:
        num = p_known * (1 - s)
        den = num + (1 - p_known) * g
    else:
        num = p_known * s
        den = num + (1 - p_known) * (1 - g)
    return num / den if den else p_known


def update(p_known: float, correct: bool, item_type: str = "mcq", score: float | None = None) -> float:
    """P(known) after one answer. A partial score counts as a correct answer with that probability."""
    params = PARAMS.get(item_type, PARAMS["short"])
    if score is not None and 0 < score < 1:
        post = score * posterior(p_known, True, params) + (1 - score) * posterior(p_known, False, params)
    else:
        post = posterior(p_known, correct, params)
    return post + (1 - post) * params.learn


def is_mastered(p_known: float) -> bool:
    return p_known >= MASTERED
