"""The learner store under concurrent writers: nothing a racing thread or server process writes is lost."""

from __future__ import annotations

import threading
import uuid

from tutor.learner.store import LearnerStore

THREADS = 20


def hammer(stores: list[LearnerStore]) -> str:
    """20 threads, spread over `stores` (one per server process in production), each set a different profile
    key and record an answer for the same learner and skill at the same moment. Returns the learner id."""
    learner = f"race-{uuid.uuid4().hex[:8]}"
    stores[0].touch(learner)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        store = stores[i % len(stores)]
        try:
            barrier.wait()
            store.update_profile(learner, **{f"k{i}": i})
            store.add_attempt(
                learner, f"item{i}", "w1.attention", "mcq", True, 1.0, quiz_id="q1",
                update_mastery=lambda p: (p or 0.0) + 1.0,  # a counter: a lost read-modify-write shows
            )  # fmt: skip
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return learner


def check_nothing_lost(store: LearnerStore, learner: str) -> None:
    assert store.get(learner)["profile"] == {f"k{i}": i for i in range(THREADS)}
    assert sorted(a["item_id"] for a in store.attempts(learner, "q1")) == sorted(f"item{i}" for i in range(THREADS))
    assert store.mastery(learner)["w1.attention"] == {"p_known": float(THREADS), "observations": THREADS}


def test_one_store_many_threads_lose_nothing(tmp_path):
    store = LearnerStore(tmp_path / "learners.sqlite")
    try:
        check_nothing_lost(store, hammer([store]))
    finally:
        store.close()


def test_several_stores_on_one_file_lose_nothing(tmp_path):
    """Several server processes share one SQLite file: each has its own connection, so only the database's
    own locking keeps their read-modify-writes apart."""
    stores = [LearnerStore(tmp_path / "learners.sqlite") for _ in range(4)]
    try:
        check_nothing_lost(stores[0], hammer(stores))
    finally:
        for store in stores:
            store.close()
