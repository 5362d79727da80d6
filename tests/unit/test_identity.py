"""Identity and the guards around a turn: signed learner codes, rate limits, input cleaning, answers that
are recorded once even when a turn is replayed after a crash, and plot names nobody else can compute."""

from __future__ import annotations

import base64
import stat

from langgraph.types import Command

from tests.conftest import fake_model
from tutor.identity import Identity, load_key
from tutor.limits import RateLimiter
from tutor.session import clean_text


def test_codes_are_signed_and_the_key_survives_a_restart(tmp_path):
    key = load_key(tmp_path)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    identity = Identity(key)
    code = identity.issue()
    learner = identity.learner(code)
    assert learner and learner.startswith("browser:") and len(learner) == len("browser:") + 32
    assert Identity(load_key(tmp_path)).learner(code) == learner  # a restarted server reads the same key
    assert Identity(load_key(tmp_path / "other")).learner(code) is None  # another server's key
    tampered = code[:-1] + ("0" if code[-1] != "0" else "1")
    for bad in (learner, tampered, "", None, "local", "user:ann", code + "x", code.upper()):
        assert identity.learner(bad) is None
    assert identity.issue() != code
    assert Identity(load_key(tmp_path, "configured")).learner(code) is None  # TUTOR_SECRET_KEY wins
    assert Identity(key).storage_secret() == identity.storage_secret()


def test_rate_limiter_counts_per_key_in_a_sliding_window():
    limit = RateLimiter(3, window_s=60)
    assert [limit.check("a", now=t) for t in (0, 1, 2)] == [0.0, 0.0, 0.0]
    assert limit.check("a", now=3) == 57  # refused until the first event leaves the window
    assert limit.check("b", now=3) == 0.0  # other keys are not affected
    assert limit.check("a", now=60) == 0.0


def test_any_string_is_cleaned_before_the_model_or_the_store_sees_it():
    assert clean_text("a\ud800b") == "a\ufffdb"
    assert clean_text("x\x00y\x07z\n\tok") == "xyz\n\tok"
    assert clean_text("emoji 😀 and rtl \u202e stay") == "emoji 😀 and rtl \u202e stay"


def test_a_turn_replayed_after_a_crash_records_the_answer_once(session_factory):
    session = session_factory(fake_model("unused"))
    learner = "ann"
    session.learners.update_profile(learner, track="software_engineer", strategy="practice_first")
    session.run_turn(learner, "/quiz w1.attention")
    question = session.pending_question(learner)
    answer = question["options"][0][0] if question.get("options") else "queries, keys and values"
    waiting = session.graph.get_state(session.config(learner))  # the checkpoint before the answer
    session.run_turn(learner, answer)
    attempts = session.learners.attempts(learner)
    mastery = session.learners.mastery(learner)
    assert len(attempts) == 1
    # the store was written, but say the checkpoint was lost: the graph resumes from the older one
    session.graph.invoke(Command(resume=answer), waiting.config, context=session.context())
    assert session.learners.attempts(learner) == attempts
    assert session.learners.mastery(learner) == mastery  # no second BKT observation


def test_a_check_answered_again_after_a_reteach_is_a_new_attempt(session_factory):
    from tutor.learner.progress import LearnerModel

    session = session_factory(fake_model("unused"))
    model = LearnerModel(session.learners)
    first = model.record_answer("bo", "w1.attention.x", "w1.attention", "mcq", False, 0.0, quiz_id="check:abc:0")
    again = model.record_answer("bo", "w1.attention.x", "w1.attention", "mcq", False, 0.0, quiz_id="check:abc:0")
    retry = model.record_answer("bo", "w1.attention.x", "w1.attention", "mcq", True, 1.0, quiz_id="check:abc:1")
    assert again.get("duplicate") and not first.get("duplicate") and not retry.get("duplicate")
    assert len(session.learners.attempts("bo")) == 2
    assert session.learners.mastery("bo")["w1.attention"]["observations"] == 2


def test_plot_files_are_named_by_owner(tmp_path):
    from tutor.ui import image_messages

    png = base64.b64encode(b"\x89PNG same picture").decode()
    identity = Identity(load_key(tmp_path))
    ann = image_messages([png], tmp_path / "media", identity.media_key("user:ann"))
    bob = image_messages([png], tmp_path / "media", identity.media_key("user:bob"))
    assert len(list((tmp_path / "media").iterdir())) == 2  # the same picture, two names
    assert ann[0]["content"].value != bob[0]["content"].value


def test_concurrent_profile_updates_are_all_kept(tmp_path):
    import threading

    from tutor.learner.store import LearnerStore

    store = LearnerStore(tmp_path / "learners.sqlite")
    threads = [threading.Thread(target=store.update_profile, args=("ann",), kwargs={f"k{i}": i}) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("ann")["profile"] == {f"k{i}": i for i in range(20)}  # no read-modify-write lost
    store.close()


def test_tools_never_import_the_agent():
    """Layers point one way (ui/cli -> session -> agent -> tools -> core): a tool may use the core, never
    the agent above it."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "tools"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])  # fmt: skip
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(("tutor.agent", "tutor.ui", "tutor.cli"))]
    assert offenders == []
