"""Where kernels keep files: learners' working directories and per-kernel runtime directories.

A learner's working directory is keyed by learner, so files survive idle culls, restarts and server
restarts; a sweep removes the ones unused for days. Pool kernels start before anyone owns them, in a
directory of their own; on first use the learner's files move into it and it is renamed to the
learner's name (the sandbox's bind mount follows the directory, not its name).

Runtime directories hold the connection file and IPC sockets of one kernel, under /tmp because socket
paths are limited to ~107 bytes. Their names carry the owning server's pid and start time, so a server
can tell its own from a dead server's and remove those at start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

RUNTIME_PREFIX = "tutor-k-"
POOL = ".pool"
LEGACY_RUNTIME_AGE_S = 3600


def _owner_tag(pid: int | None = None) -> str:
    import psutil

    pid = pid or os.getpid()
    return f"{pid}.{int(psutil.Process(pid).create_time() * 100):x}"


def _owner_alive(tag: str) -> bool:
    import psutil

    pid, _, _ = tag.partition(".")
    try:
        return pid.isdigit() and _owner_tag(int(pid)) == tag
    except psutil.Error:
        return False


def learner_dirname(session_id: str) -> str:
    """A safe, stable directory name for any session id (no path tricks, no collisions)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", session_id)[:40].lstrip(".") or "learner"
    return f"{readable}-{hashlib.sha256(session_id.encode()).hexdigest()[:10]}"


def new_pool_dir(root: Path, kid: str) -> Path:
    return Path(root) / "work" / POOL / f"{_owner_tag()}-{kid}"


def new_runtime_dir(kid: str, owner: int | None) -> Path:
    path = Path(tempfile.gettempdir()) / f"{RUNTIME_PREFIX}{_owner_tag()}-{kid}"
    path.mkdir(mode=0o700)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def adopt(root: Path, pool_dir: Path, session_id: str) -> Path:
    """Give a pool kernel's directory to a learner, bringing in the files they already have."""
    target = Path(root) / "work" / learner_dirname(session_id)
    if pool_dir == target:
        return target
    if target.exists():
        for entry in target.iterdir():
            dest = pool_dir / entry.name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest, ignore_errors=True)
            elif dest.exists() or dest.is_symlink():
                dest.unlink()
            os.replace(entry, dest)
        target.rmdir()
    os.replace(pool_dir, target)
    touch(target)
    return target


def touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def sweep(root: Path, keep_days: float, keep: set[Path] | None = None) -> int:
    """Remove learners' directories unused for `keep_days`, and pool and runtime directories of servers
    that are gone; returns how many were removed."""
    keep = keep or set()
    work = Path(root) / "work"
    removed = 0
    cutoff = time.time() - keep_days * 86400
    if work.is_dir():
        for entry in work.iterdir():
            if entry.name == POOL or entry in keep:
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
        pool = work / POOL
        if pool.is_dir():
            for entry in pool.iterdir():
                if entry not in keep and not _owner_alive(entry.name.rsplit("-", 1)[0]):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
    return removed + sweep_runtime_dirs()


def sweep_runtime_dirs() -> int:
    """Runtime directories of dead servers (and unmarked ones of older versions) go."""
    removed = 0
    for entry in Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}*"):
        tag = entry.name[len(RUNTIME_PREFIX) :].rsplit("-", 1)[0]
        with contextlib.suppress(OSError):
            legacy = "." not in tag
            if (legacy and time.time() - entry.stat().st_mtime > LEGACY_RUNTIME_AGE_S) or (
                not legacy and not _owner_alive(tag)
            ):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def usage_mb(path: Path, max_entries: int = 50_000) -> float:
    """Disk space used under `path` (allocated blocks, symlinks not followed), bounded in cost."""
    total, seen = 0, 0
    stack = [str(path)]
    while stack and seen < max_entries:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as it:
            for entry in it:
                seen += 1
                with contextlib.suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
    return total / (1024 * 1024)
