"""How a learner kernel is launched: minimal environment, own directories, resource limits.

Learner code is untrusted. The kernel gets no secrets (an allowlisted environment), talks over IPC
sockets in a private directory (TCP would be reachable by any local user), runs in its own working
directory and under rlimits. RLIMIT_NPROC does not bind root, so the service also watches the kernel's
process tree (see service.py) and kills the whole process group beyond `max_procs`.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Passed through from the server's environment when present; everything else is dropped.
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MPL_INLINE = "module://matplotlib_inline.backend_inline"


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048  # RLIMIT_AS
    cpu_s: int = 300  # RLIMIT_CPU, per process
    max_procs: int = 64  # RLIMIT_NPROC, and the watchdog's process-tree bound
    file_mb: int = 100  # RLIMIT_FSIZE
    max_open_files: int = 256  # RLIMIT_NOFILE


def kernel_env(workdir: Path, source: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: no API keys, nothing TUTOR_*, HOME and caches inside the workdir."""
    source = dict(os.environ) if source is None else source
    env = {k: source[k] for k in ENV_ALLOWLIST if k in source}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        {
            "HOME": str(workdir),
            "TMPDIR": str(workdir / ".tmp"),
            "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
            "IPYTHONDIR": str(workdir / ".ipython"),
            "MPLBACKEND": MPL_INLINE,
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            # one BLAS/OpenMP thread per kernel: fair sharing between learners on a small machine
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
        }
    )
    return env


def prepare_workdir(workdir: Path) -> None:
    for sub in ("", ".tmp", ".config/matplotlib", ".ipython"):
        (workdir / sub).mkdir(parents=True, exist_ok=True, mode=0o700)


def user_process_count() -> int:
    """Processes and threads of this user: RLIMIT_NPROC counts them all, not only the kernel's."""
    import psutil

    uid = os.getuid()
    total = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                total += proc.info["num_threads"] or 1
        except (psutil.Error, TypeError):
            continue
    return total


def make_preexec(limits: Limits) -> Callable[[], None]:
    """Runs in the child between fork and exec: apply the rlimits to the kernel process.

    RLIMIT_NPROC is per user, so the cap is what the user already runs plus `max_procs` (for root the
    kernel ignores it and the service's process-tree watchdog is what stops a fork bomb)."""
    nproc = user_process_count() + limits.max_procs

    def apply() -> None:
        mb = 1024 * 1024
        pairs = [
            (resource.RLIMIT_AS, limits.memory_mb * mb),
            (resource.RLIMIT_CPU, limits.cpu_s),
            (resource.RLIMIT_NPROC, nproc),
            (resource.RLIMIT_FSIZE, limits.file_mb * mb),
            (resource.RLIMIT_NOFILE, limits.max_open_files),
            (resource.RLIMIT_CORE, 0),
        ]
        for which, value in pairs:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, cap))
        os.umask(0o077)

    return apply
