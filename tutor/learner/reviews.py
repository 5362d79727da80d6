"""Spaced review of mastered skills with FSRS (py-fsrs).

Once a skill is mastered it gets an FSRS card; each later answer on that skill is a review:
wrong -> Again, right after a hint -> Hard, right -> Good. Fuzzing is off so schedules are reproducible.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler

_SCHEDULER = Scheduler(enable_fuzzing=False, learning_steps=(), relearning_steps=())


def rating_for(correct: bool, hinted: bool) -> Rating:
    if not correct:
        return Rating.Again
    return Rating.Hard if hinted else Rating.Good


def new_card(now: datetime | None = None) -> Card:
    return Card(due=now or datetime.now(UTC))


def review(card: Card, correct: bool, hinted: bool = False, now: datetime | None = None) -> Card:
    updated, _log = _SCHEDULER.review_card(card, rating_for(correct, hinted), review_datetime=now or datetime.now(UTC))
    return updated


def to_json(card: Card) -> dict:
    return card.to_dict()


def from_json(data: dict) -> Card:
    return Card.from_dict(data)


def is_due(card: Card, now: datetime | None = None) -> bool:
    return card.due <= (now or datetime.now(UTC))
