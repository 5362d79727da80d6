"""Learner records in SQLite under the data dir (versioned schema; later issues add tables).

A learner is identified per browser (a persistent random id) or per login; every read and write takes
the learner id, so one learner's data is never reachable through another's id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE learners (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        last_seen REAL NOT NULL,
        visits INTEGER NOT NULL DEFAULT 1,
        profile TEXT NOT NULL DEFAULT '{}'
    );
    """,
}


class LearnerStore:
    """Thread-safe access to the learner database (one connection, serialized by a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._conn.executescript(f"BEGIN; {MIGRATIONS[target]} PRAGMA user_version={target}; COMMIT;")

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def touch(self, learner_id: str) -> dict[str, Any]:
        """Record a visit and return the learner (created on first sight)."""
        if not learner_id or len(learner_id) > 128:
            raise ValueError("learner id must be 1-128 characters")
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO learners (id, created_at, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
                (learner_id, now, now),
            )
        return self.get(learner_id) or {}

    def get(self, learner_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, created_at, last_seen, visits, profile FROM learners WHERE id = ?", (learner_id,)
            ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "created_at": row[1],
            "last_seen": row[2],
            "visits": row[3],
            "profile": json.loads(row[4]),
        }

    def count_visit(self, learner_id: str) -> None:
        """A new session (page load, `tutor chat` start) counts as a visit; turns do not."""
        with self._lock:
            self._conn.execute("UPDATE learners SET visits = visits + 1 WHERE id = ?", (learner_id,))

    def close(self) -> None:
        self._conn.close()
