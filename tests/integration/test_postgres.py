"""Conversations and learners in a real Postgres server on loopback (TUTOR_DATABASE_URL)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import pytest

from tests.conftest import fake_model, free_port

pytestmark = pytest.mark.slow


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    return found[-1] or None


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL server binaries are missing: `make test` installs the postgresql package")
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="tutor-pg-"))  # pytest's tmp dirs are private to root
    data = base / "data"
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres system user
        shutil.chown(data.parent, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, initdb, "-D", str(data), "--auth=trust", "-U", "postgres"], check=True,
                   capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(data.parent / "log"), "-w", "start"],
                   check=True, capture_output=True)  # fmt: skip
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    import psycopg

    for _ in range(50):
        try:
            psycopg.connect(url).close()
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    yield url
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def test_learners_and_conversations_live_in_postgres(postgres_url, tmp_path):
    from tutor.config import Settings
    from tutor.learner.placement import score
    from tutor.learner.progress import LearnerModel
    from tutor.session import TutorSession

    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", database_url=postgres_url, model="openai/gpt-4o-mini"
    )
    session = TutorSession(settings, model=fake_model("first answer", "second answer"))
    session.run_turn("ann", "first question")
    model = LearnerModel(session.learners)
    model.save_placement("ann", score({"role": "research"}), {"role": "research"})
    model.record_answer("ann", "w1.attention.a", "w1.attention", "mcq", True, 1.0)
    before = model.progress("ann")
    session.close()
    assert not (tmp_path / "data" / "conversations.sqlite").exists()  # nothing went to SQLite

    again = TutorSession(settings, model=fake_model("second answer"))
    try:
        assert [m.text for m in again.history("ann")] == ["first question", "first answer"]
        assert LearnerModel(again.learners).progress("ann") == before
        assert again.history("bob") == [] and LearnerModel(again.learners).progress("bob")["profile"]["track"] is None
    finally:
        again.close()


def test_concurrent_writers_lose_nothing_in_postgres(postgres_url, tmp_path):
    """Four stores (four server processes) and 20 threads write one learner at once: every profile key,
    attempt and mastery step is kept."""
    from tests.unit.test_store_concurrency import check_nothing_lost, hammer
    from tutor.learner.store import LearnerStore

    stores = [LearnerStore(tmp_path / "unused.sqlite", postgres_url) for _ in range(4)]
    try:
        check_nothing_lost(stores[0], hammer(stores))
    finally:
        for store in stores:
            store.close()
