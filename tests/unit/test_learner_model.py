"""Learner model: BKT and FSRS against hand-computed values, placement, plan, progress, persistence."""

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, State

from tutor.learner import mastery as bkt
from tutor.learner import reviews
from tutor.learner.placement import QUESTIONS, score
from tutor.learner.plan import build_plan, checkpoint_status, next_step, position, weeks_needed
from tutor.learner.progress import LearnerModel
from tutor.learner.store import SCHEMA_VERSION, LearnerStore

# ---------------------------------------------------------------- BKT, by hand


def test_bkt_correct_mcq_matches_hand_computation():
    # P(L)=0.15, S=0.10, G=0.25: posterior = .15*.9 / (.15*.9 + .85*.25) = .135/.3475 = .388489...
    # then learning T=.15: .388489 + .611511*.15 = .480216
    assert bkt.posterior(0.15, True, bkt.PARAMS["mcq"]) == pytest.approx(0.135 / 0.3475)
    assert bkt.update(0.15, True, "mcq") == pytest.approx(0.480216, abs=1e-6)


def test_bkt_wrong_short_answer_matches_hand_computation():
    # P(L)=0.6, S=G=0.10: posterior = .6*.1 / (.06 + .4*.9) = .06/.42 = .142857; + .857143*.15 = .271429
    assert bkt.update(0.6, False, "short") == pytest.approx(0.271429, abs=1e-6)


def test_bkt_partial_score_is_a_mixture_and_mastery_threshold():
    p = bkt.update(0.5, True, "short", score=0.5)
    assert bkt.update(0.5, False, "short") < p < bkt.update(0.5, True, "short")
    # code items, S=.15 G=.05: .15 -> .1275/.17 = .75 -> +.25*.15 = .7875
    #                        .7875 -> .669375/.68 = .984375 -> +.015625*.15 = .986719 (mastered after two)
    first = bkt.update(bkt.PRIOR, True, "code")
    second = bkt.update(first, True, "code")
    assert first == pytest.approx(0.7875) and second == pytest.approx(0.986719, abs=1e-6)
    assert not bkt.is_mastered(first) and bkt.is_mastered(second)
    assert bkt.MASTERED == 0.95


# ---------------------------------------------------------------- FSRS, by hand (default FSRS-6 weights)


def test_fsrs_first_reviews_match_the_published_initial_values():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    good = reviews.review(reviews.new_card(t), correct=True, now=t)
    # S0(Good) = w2 = 2.3065 -> interval round(2.3065) = 2 days at 90% retention
    # D0(Good) = w4 - exp(w5 * 2) + 1 = 6.4133 - exp(1.6668) + 1 = 2.1181
    assert good.stability == pytest.approx(2.3065)
    assert good.difficulty == pytest.approx(6.4133 - 2.718281828**1.6668 + 1, abs=1e-3)
    assert good.due == t + timedelta(days=2) and good.state == State.Review
    again = reviews.review(reviews.new_card(t), correct=False, now=t)
    assert again.stability == pytest.approx(0.212) and again.difficulty == pytest.approx(6.4133)
    assert again.due == t + timedelta(days=1)
    hard = reviews.review(reviews.new_card(t), correct=True, hinted=True, now=t)
    assert hard.stability == pytest.approx(1.2931)


def test_fsrs_rating_rule_and_growth():
    assert reviews.rating_for(False, False) == Rating.Again
    assert reviews.rating_for(True, True) == Rating.Hard
    assert reviews.rating_for(True, False) == Rating.Good
    t = datetime(2026, 1, 1, tzinfo=UTC)
    card = reviews.review(reviews.new_card(t), True, now=t)
    later = reviews.review(card, True, now=card.due)
    assert later.stability > card.stability and later.due - card.due > timedelta(days=2)
    assert reviews.from_json(reviews.to_json(later)).due == later.due


# ---------------------------------------------------------------- placement and plan


def test_intake_answers_place_each_track():
    base = {"time": "part"}
    assert score({**base, "role": "engineer", "coding": "daily", "goal": "ship"}).track == "software_engineer"
    assert score({**base, "role": "data", "ml": "applied", "goal": "evaluate"}).track == "data_scientist"
    assert score({**base, "role": "research", "ml": "deep", "goal": "research"}).track == "ml_researcher"
    assert score({**base, "role": "product", "coding": "none", "goal": "business"}).track == "product_manager"
    p = score({"role": "engineer", "learning": "theory"})
    assert p.strategy == "theory_first" and p.reasons and 0 < p.confidence <= 1
    assert score({"role": "engineer"}).strategy == "practice_first"  # the track's default strategy


def test_every_question_has_at_most_six_and_options():
    assert len(QUESTIONS) <= 6 and all(len(q.options) >= 3 for q in QUESTIONS)


def test_plan_follows_track_strategy_and_pace():
    full = build_plan("software_engineer", "practice_first", 10)
    assert full[0].label == "Week 1 · Days 1-2"
    assert full[0].items[0].kind == "notebook"  # practice first
    theory = build_plan("software_engineer", "theory_first", 10)
    assert theory[0].items[0].kind == "lesson"
    light = build_plan("software_engineer", "theory_first", 2)
    assert sum(len(b.items) for b in light) < sum(len(b.items) for b in theory)  # optional items dropped
    assert weeks_needed(light, 2) > weeks_needed(theory, 10)
    assert position(theory, set()) == "Week 1 · Days 1-2"


def test_next_step_prefers_due_reviews_then_first_unmastered_item_then_checkpoint():
    plan = build_plan("data_scientist", "theory_first", 10)
    mastery = {}
    cps = checkpoint_status(mastery, {})
    assert next_step(plan, set(), mastery, ["w1.attention"], cps)["kind"] == "review"
    first = next_step(plan, set(), mastery, [], cps)
    assert first["path"] == plan[0].items[0].path
    week1 = {i.path for b in plan if b.week == 1 for i in b.items}
    step = next_step(plan, week1, mastery, [], cps)
    assert step["kind"] == "checkpoint" and step["week"] == 1
    mastered = {
        s: 0.99 for s in ("w1.attention", "w1.encoder_decoder", "w1.pretrained_models", "w1.text_classification")
    }
    cps = checkpoint_status(mastered, {})
    assert cps[1]["passed"] and next_step(plan, week1, mastered, [], cps)["kind"] != "checkpoint"
    assert checkpoint_status({}, {2: 0.85})[2]["passed"]  # or >= 80% on the checkpoint quiz


# ---------------------------------------------------------------- store and progress


def test_progress_is_persisted_and_isolated(tmp_path):
    path = tmp_path / "learners.sqlite"
    store = LearnerStore(path)
    assert store.schema_version == SCHEMA_VERSION
    model = LearnerModel(store)
    model.save_placement("ann", score({"role": "data", "ml": "applied"}), {"role": "data"})
    for _ in range(3):
        model.record_answer("ann", "w1.attention.x", "w1.attention", "code", True, 1.0)
    model.mark("ann", "01_transformer_architecture/01_what_are_transformers.md")
    before = model.progress("ann")
    store.close()

    again = LearnerModel(LearnerStore(path))  # a server restart
    after = again.progress("ann")
    assert after == before
    assert after["profile"]["track"] == "data_scientist"
    assert after["mastery"]["w1.attention"]["mastered"]
    assert after["plan_position"] == "Week 1 · Days 1-2"
    assert again.store.reviews("ann")  # a mastered skill has an FSRS card
    bob = again.progress("bob")
    assert bob["profile"]["track"] is None and not bob["mastery"]["w1.attention"]["mastered"]
    assert again.store.attempts("bob") == []


def test_override_is_recorded(tmp_path):
    model = LearnerModel(LearnerStore(tmp_path / "l.sqlite"))
    model.save_placement("ann", score({"role": "engineer"}), {"role": "engineer"})
    profile = model.override("ann", track="ml_researcher")
    assert profile["track"] == "ml_researcher"
    assert profile["overrides"][0]["from"]["track"] == "software_engineer"
    with pytest.raises(ValueError, match="unknown track"):
        model.override("ann", track="wizard")


def test_due_reviews_after_time_passes(tmp_path):
    model = LearnerModel(LearnerStore(tmp_path / "l.sqlite"))
    t = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(3):
        model.record_answer("ann", "i", "w2.rag", "code", True, 1.0, now=t)
    assert model.due_reviews("ann", now=t) == []
    assert model.due_reviews("ann", now=t + timedelta(days=30)) == ["w2.rag"]


def test_migration_from_version_one(tmp_path):
    import sqlite3

    from tutor.learner.store import DIALECT, MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[1].format(**DIALECT["sqlite"]) + "PRAGMA user_version=1;")
    conn.execute("INSERT INTO learners (id, created_at, last_seen) VALUES ('old', 0, 0)")
    conn.commit()
    conn.close()
    store = LearnerStore(path)
    assert store.schema_version == SCHEMA_VERSION and store.get("old")["id"] == "old"
    store.set_mastery("old", "w1.attention", 0.5)
    assert store.mastery("old")["w1.attention"]["p_known"] == 0.5
