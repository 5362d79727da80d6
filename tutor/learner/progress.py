"""The learner model's public API over the store: placement results, answers -> mastery and reviews,
lesson progress, and the `tutor progress` report."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tutor.curriculum.schema import SKILLS, STRATEGIES, TRACKS
from tutor.learner import mastery as bkt
from tutor.learner import reviews as fsrs_reviews
from tutor.learner.placement import Placement
from tutor.learner.plan import build_plan, checkpoint_status, next_step, position, weeks_needed
from tutor.learner.store import LearnerStore


def default_strategy(track: str) -> str:
    """The track's own default strategy from tracks.yaml (theory_first when it names none)."""
    from tutor.learner.plan import load_tracks

    found = next((t for t in load_tracks().tracks if t.id == track), None)
    return getattr(found, "default_strategy", None) or "theory_first"


class LearnerModel:
    def __init__(self, store: LearnerStore) -> None:
        self.store = store

    # ------------------------------------------------------------------ profile

    def profile(self, learner_id: str) -> dict[str, Any]:
        return (self.store.get(learner_id) or {}).get("profile", {})

    def save_placement(self, learner_id: str, placement: Placement, intake: dict[str, str]) -> dict[str, Any]:
        return self.store.update_profile(
            learner_id,
            track=placement.track,
            strategy=placement.strategy,
            confidence=placement.confidence,
            reasons=placement.reasons,
            intake=intake,
            hours_per_week=placement.hours_per_week,
            placed_at=time.time(),
        )

    def override(self, learner_id: str, track: str | None = None, strategy: str | None = None) -> dict[str, Any]:
        """The learner's choice wins; the override is recorded next to what the scorer said."""
        if track is not None and track not in TRACKS:
            raise ValueError(f"unknown track {track!r}; choose one of {', '.join(TRACKS)}")
        if strategy is not None and strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
        profile = self.profile(learner_id)
        overrides = [*profile.get("overrides", [])]
        overrides.append(
            {"at": time.time(), "from": {"track": profile.get("track"), "strategy": profile.get("strategy")},
             "to": {"track": track or profile.get("track"), "strategy": strategy or profile.get("strategy")}}
        )  # fmt: skip
        changes: dict[str, Any] = {"overrides": overrides}
        if track:
            changes["track"] = track
            if not strategy and not profile.get("strategy"):  # never leave a placed learner without a strategy
                strategy = default_strategy(track)
        if strategy:
            changes["strategy"] = strategy
        return self.store.update_profile(learner_id, **changes)

    # ------------------------------------------------------------------ evidence

    def record_answer(
        self,
        learner_id: str,
        item_id: str,
        skill: str,
        item_type: str,
        correct: bool,
        score: float,
        hinted: bool = False,
        answer: str = "",
        quiz_id: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """One graded answer: attempt row and BKT update in one transaction (at most once per quiz attempt
        and item), then an FSRS review once the skill is mastered."""
        self.store.touch(learner_id)
        seen: dict[str, float] = {}

        def bkt_step(p_before: float | None) -> float:
            seen["before"] = bkt.PRIOR if p_before is None else p_before
            seen["after"] = bkt.update(seen["before"], correct, item_type, score)
            return seen["after"]

        new = self.store.add_attempt(
            learner_id, item_id, skill, item_type, correct, score, hinted, answer, quiz_id, update_mastery=bkt_step
        )
        if not new:  # the same answer replayed: nothing changes
            p = self.store.mastery(learner_id).get(skill, {}).get("p_known", bkt.PRIOR)
            return {"before": p, "after": p, "duplicate": True}
        before, after = seen["before"], seen["after"]
        cards = self.store.reviews(learner_id)
        now = now or datetime.now(UTC)
        if skill in cards:
            card = fsrs_reviews.review(fsrs_reviews.from_json(cards[skill]), correct, hinted, now)
        elif bkt.is_mastered(after):
            card = fsrs_reviews.review(fsrs_reviews.new_card(now), correct, hinted, now)
        else:
            card = None
        if card is not None:
            self.store.set_review(learner_id, skill, fsrs_reviews.to_json(card), card.due.timestamp())
        return {"before": before, "after": after}

    def mark(self, learner_id: str, item: str, status: str = "done") -> None:
        self.store.set_lesson_status(learner_id, item, status)

    # ------------------------------------------------------------------ report

    def mastery_map(self, learner_id: str) -> dict[str, float]:
        stored = self.store.mastery(learner_id)
        return {s: round(stored.get(s, {}).get("p_known", bkt.PRIOR), 4) for s in SKILLS}

    def due_reviews(self, learner_id: str, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(UTC)
        due = []
        for skill, data in self.store.reviews(learner_id).items():
            if fsrs_reviews.is_due(fsrs_reviews.from_json(data), now):
                due.append(skill)
        return sorted(due)

    def progress(self, learner_id: str, now: datetime | None = None) -> dict[str, Any]:
        profile = self.profile(learner_id)
        mastery = self.mastery_map(learner_id)
        done = {k for k, v in self.store.lesson_progress(learner_id).items() if v == "done"}
        quiz_scores = {int(k): v for k, v in profile.get("checkpoint_scores", {}).items()}
        checkpoints = checkpoint_status(mastery, quiz_scores)
        due = self.due_reviews(learner_id, now)
        report: dict[str, Any] = {
            "learner": learner_id,
            "profile": {
                k: profile.get(k) for k in ("track", "strategy", "confidence", "reasons", "hours_per_week", "guided")
            },
            "mastery": {s: {"p_known": p, "mastered": bkt.is_mastered(p)} for s, p in mastery.items()},
            "reviews_due": due,
            "checkpoints": {str(w): c for w, c in checkpoints.items()},
            "checkpoints_passed": [w for w, c in checkpoints.items() if c["passed"]],
            "done": sorted(done),
        }
        if profile.get("track"):
            plan = build_plan(
                profile["track"], profile.get("strategy") or "theory_first", profile.get("hours_per_week")
            )
            report["plan_position"] = position(plan, done)
            report["next"] = next_step(plan, done, mastery, due, checkpoints)
            report["weeks_needed"] = weeks_needed(plan, profile.get("hours_per_week"))
        else:
            report["plan_position"] = None
            report["next"] = {"kind": "intake", "text": "Tell me about your background to get your track and plan."}
        return report
