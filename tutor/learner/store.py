"""Learner records: SQLite under the data dir, or Postgres when TUTOR_DATABASE_URL is a postgres URL.

Versioned schema with forward migrations. A learner is identified per browser (a persistent random id)
or per login; every read and write takes the learner id, so one learner's data is never reachable
through another's id.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 3
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE learners (
        id TEXT PRIMARY KEY,
        created_at {real} NOT NULL,
        last_seen {real} NOT NULL,
        visits INTEGER NOT NULL DEFAULT 1,
        profile TEXT NOT NULL DEFAULT '{{}}'
    );
    """,
    2: """
    CREATE TABLE mastery (
        learner_id TEXT NOT NULL REFERENCES learners(id),
        skill TEXT NOT NULL,
        p_known {real} NOT NULL,
        observations INTEGER NOT NULL DEFAULT 0,
        updated_at {real} NOT NULL,
        PRIMARY KEY (learner_id, skill)
    );
    CREATE TABLE attempts (
        id {autoinc},
        learner_id TEXT NOT NULL REFERENCES learners(id),
        quiz_id TEXT,
        item_id TEXT NOT NULL,
        skill TEXT NOT NULL,
        item_type TEXT NOT NULL,
        correct INTEGER NOT NULL,
        score {real} NOT NULL,
        hinted INTEGER NOT NULL DEFAULT 0,
        answer TEXT NOT NULL DEFAULT '',
        created_at {real} NOT NULL
    );
    CREATE INDEX attempts_by_learner ON attempts (learner_id, created_at);
    CREATE TABLE reviews (
        learner_id TEXT NOT NULL REFERENCES learners(id),
        skill TEXT NOT NULL,
        card TEXT NOT NULL,
        due {real} NOT NULL,
        PRIMARY KEY (learner_id, skill)
    );
    CREATE TABLE lesson_progress (
        learner_id TEXT NOT NULL REFERENCES learners(id),
        item TEXT NOT NULL,
        status TEXT NOT NULL,
        updated_at {real} NOT NULL,
        PRIMARY KEY (learner_id, item)
    );
    """,
    3: """
    CREATE UNIQUE INDEX attempts_once ON attempts (learner_id, quiz_id, item_id) WHERE quiz_id IS NOT NULL;
    """,
}


DIALECT = {
    "sqlite": {"real": "DOUBLE PRECISION", "autoinc": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgres": {"real": "DOUBLE PRECISION", "autoinc": "BIGSERIAL PRIMARY KEY"},
}


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in ("postgres", "postgresql", "postgresql+psycopg")


UPSERT_MASTERY = (  # (learner_id, skill, p_known, observations to add, updated_at)
    "INSERT INTO mastery (learner_id, skill, p_known, observations, updated_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(learner_id, skill) DO UPDATE SET p_known = excluded.p_known, "
    "observations = mastery.observations + excluded.observations, updated_at = excluded.updated_at"
)
Run = Callable[[str, tuple], list[tuple]]
"""Runs one statement inside a transaction and returns its rows."""


class _SqliteDB:
    """One connection per store, serialized by a lock: SQLite writes one transaction at a time anyway."""

    dialect = "sqlite"
    lock_row = ""  # BEGIN IMMEDIATE already holds the database's write lock, against other processes too

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: how long a writer waits for another process's write lock before "database is locked"
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self.conn.execute(sql, args).fetchall()

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._run(sql, args)

    def migrate(self, version: int, script: str) -> None:
        with self._lock:
            self.conn.executescript(f"BEGIN; {script} PRAGMA user_version={version}; COMMIT;")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Run]:
        """BEGIN IMMEDIATE takes the write lock before the first read, so a read-modify-write cannot
        interleave with another connection's (a deferred BEGIN would read a snapshot another writer then
        overwrites)."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._run
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def version(self) -> int:
        return self.execute("PRAGMA user_version")[0][0]

    def close(self) -> None:
        self.conn.close()


class _PostgresDB:
    """A connection pool: threads (web requests, background grading) run side by side instead of queueing
    behind one connection, and a read-modify-write locks only its learner's row."""

    dialect = "postgres"
    # The row lock an UPDATE takes, taken at the read: a second read-modify-write of the learner waits until
    # the first commits. NO KEY leaves inserts that reference the learner (attempts, mastery) unblocked.
    lock_row = " FOR NO KEY UPDATE"

    def __init__(self, url: str, max_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        self.pool = ConnectionPool(
            url.replace("postgresql+psycopg", "postgresql"),
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=True,
        )
        try:
            self.pool.wait(timeout=30)  # fail at start-up, as a single connect would, not at the first request
            self.execute("CREATE TABLE IF NOT EXISTS tutor_schema (version INTEGER NOT NULL)")
        except BaseException:
            self.pool.close()
            raise

    @staticmethod
    def _run(conn: Any, sql: str, args: tuple = ()) -> list[tuple]:
        # no parameters: the simple protocol, which runs a multi-statement migration script
        cur = conn.execute(sql.replace("?", "%s"), args) if args else conn.execute(sql)
        return cur.fetchall() if cur.description else []

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.pool.connection() as conn:
            return self._run(conn, sql, args)

    def migrate(self, version: int, script: str) -> None:
        with self.transaction() as run:
            run(script)
            run("DELETE FROM tutor_schema")
            run("INSERT INTO tutor_schema (version) VALUES (?)", (version,))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Run]:
        """One pooled connection for the whole transaction; committed on success, rolled back on error."""
        with self.pool.connection() as conn, conn.transaction():
            yield functools.partial(self._run, conn)

    def version(self) -> int:
        return self.execute("SELECT max(version) FROM tutor_schema")[0][0] or 0

    def close(self) -> None:
        self.pool.close()


class LearnerStore:
    """Thread- and process-safe access to the learner database. Every read-modify-write (profile merge,
    mastery update) runs in one transaction that holds a write lock from its read on (SQLite: BEGIN
    IMMEDIATE; Postgres: a row lock on the learner), so concurrent writers, in this process or another,
    never overwrite each other's changes."""

    def __init__(self, path: Path, database_url: str | None = None) -> None:
        self._db = _PostgresDB(database_url) if is_postgres_url(database_url) else _SqliteDB(path)
        self._migrate()

    def _migrate(self) -> None:
        version = self._db.version()
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.migrate(target, MIGRATIONS[target].format(**DIALECT[self._db.dialect]))

    @property
    def schema_version(self) -> int:
        return self._db.version()

    def touch(self, learner_id: str) -> dict[str, Any]:
        """Record a visit and return the learner (created on first sight)."""
        if not learner_id or len(learner_id) > 128:
            raise ValueError("learner id must be 1-128 characters")
        now = time.time()
        self._db.execute(
            "INSERT INTO learners (id, created_at, last_seen) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
            (learner_id, now, now),
        )
        return self.get(learner_id) or {}

    def get(self, learner_id: str) -> dict[str, Any] | None:
        rows = self._db.execute(
            "SELECT id, created_at, last_seen, visits, profile FROM learners WHERE id = ?", (learner_id,)
        )
        if not rows:
            return None
        row = rows[0]
        return {
            "id": row[0],
            "created_at": row[1],
            "last_seen": row[2],
            "visits": row[3],
            "profile": json.loads(row[4]),
        }

    def learner_ids(self, prefix: str = "") -> list[str]:
        """Ids starting with `prefix` ("browser:", "user:"), most recently seen first."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._db.execute("SELECT id FROM learners WHERE id LIKE ? ESCAPE '\\' ORDER BY last_seen DESC", (like,))
        return [r[0] for r in rows]

    def count_visit(self, learner_id: str) -> None:
        """A new session (page load, `tutor chat` start) counts as a visit; turns do not."""
        self._db.execute("UPDATE learners SET visits = visits + 1 WHERE id = ?", (learner_id,))

    # ------------------------------------------------------------------ profile

    def set_profile(self, learner_id: str, profile: dict[str, Any]) -> None:
        self.touch(learner_id)
        self._db.execute("UPDATE learners SET profile = ? WHERE id = ?", (json.dumps(profile), learner_id))

    def update_profile(self, learner_id: str, **changes: Any) -> dict[str, Any]:
        """Merge `changes` into the profile (top-level keys replace). The read holds the write lock until the
        write commits, so two concurrent updates (a track change and the Socratic toggle from another tab or
        server process) both survive. Not one json UPDATE: SQLite's json_patch merges nested values and
        drops null ones, which is not this shallow merge."""
        self.touch(learner_id)
        with self._db.transaction() as run:
            rows = run(f"SELECT profile FROM learners WHERE id = ?{self._db.lock_row}", (learner_id,))
            profile = {**(json.loads(rows[0][0]) if rows else {}), **changes}
            run("UPDATE learners SET profile = ? WHERE id = ?", (json.dumps(profile), learner_id))
        return profile

    # ------------------------------------------------------------------ mastery and attempts

    def mastery(self, learner_id: str) -> dict[str, dict[str, float]]:
        rows = self._db.execute("SELECT skill, p_known, observations FROM mastery WHERE learner_id = ?", (learner_id,))
        return {skill: {"p_known": p, "observations": n} for skill, p, n in rows}

    def set_mastery(self, learner_id: str, skill: str, p_known: float, observed: int = 1) -> None:
        self._db.execute(UPSERT_MASTERY, (learner_id, skill, p_known, observed, time.time()))

    def add_attempt(
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
        update_mastery: Callable[[float | None], float] | None = None,
    ) -> bool:
        """Record one graded answer, at most once per (quiz attempt, item): a turn replayed after a crash
        between this store and the conversation checkpoint finds the row and changes nothing. The mastery
        update (`update_mastery(p_before) -> p_after`) runs in the same transaction, only for a new row,
        under the learner's write lock (taken first, before the insert), so two answers graded at once
        each build on the other's p_known. Returns whether the answer was new."""
        with self._db.transaction() as run:
            if update_mastery is not None:
                run(f"SELECT id FROM learners WHERE id = ?{self._db.lock_row}", (learner_id,))
            rows = run(
                "INSERT INTO attempts (learner_id, quiz_id, item_id, skill, item_type, correct, score, hinted, "
                "answer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (learner_id, quiz_id, item_id) WHERE quiz_id IS NOT NULL DO NOTHING RETURNING id",
                (learner_id, quiz_id, item_id, skill, item_type, int(correct), score, int(hinted), answer[:4000],
                 time.time()),
            )  # fmt: skip
            if not rows:
                return False
            if update_mastery is not None:
                found = run("SELECT p_known FROM mastery WHERE learner_id = ? AND skill = ?", (learner_id, skill))
                after = update_mastery(found[0][0] if found else None)
                run(UPSERT_MASTERY, (learner_id, skill, after, 1, time.time()))
            return True

    def attempts(self, learner_id: str, quiz_id: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT quiz_id, item_id, skill, item_type, correct, score, hinted, created_at FROM attempts "
            "WHERE learner_id = ?"
        )
        args: tuple = (learner_id,)
        if quiz_id is not None:
            sql += " AND quiz_id = ?"
            args += (quiz_id,)
        rows = self._db.execute(sql + " ORDER BY id", args)
        keys = ("quiz_id", "item_id", "skill", "item_type", "correct", "score", "hinted", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ------------------------------------------------------------------ reviews and lesson progress

    def reviews(self, learner_id: str) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT skill, card FROM reviews WHERE learner_id = ?", (learner_id,))
        return {skill: json.loads(card) for skill, card in rows}

    def set_review(self, learner_id: str, skill: str, card: dict[str, Any], due: float) -> None:
        self._db.execute(
            "INSERT INTO reviews (learner_id, skill, card, due) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(learner_id, skill) DO UPDATE SET card = excluded.card, due = excluded.due",
            (learner_id, skill, json.dumps(card), due),
        )

    def lesson_progress(self, learner_id: str) -> dict[str, str]:
        return dict(self._db.execute("SELECT item, status FROM lesson_progress WHERE learner_id = ?", (learner_id,)))

    def set_lesson_status(self, learner_id: str, item: str, status: str) -> None:
        self.touch(learner_id)
        self._db.execute(
            "INSERT INTO lesson_progress (learner_id, item, status, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(learner_id, item) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            (learner_id, item, status, time.time()),
        )

    def close(self) -> None:
        self._db.close()
