"""Code checkpoints graded in two fresh sandboxed processes, never in the learner's own kernel.

One process runs the submission, the other the hidden tests; they talk over two pipes (see
isolation_runtime.py). The verdict is the tests process's exit status: the submission cannot reach that
process, so there is no marker to read or output to forge, and nothing left in the learner's kernel
counts. The hidden tests never enter the submission's sandbox; the tutor package is not mounted in it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.kernel.sandbox import (
    HOME,
    Limits,
    SandboxConfig,
    host_uid,
    kernel_env,
    prepare_workdir,
    rlimit_prefix,
    sandbox_argv,
    sandbox_problem,
    sandbox_python,
)

RUNTIME = (Path(__file__).parent / "isolation_runtime.py").read_text()


@dataclass
class Verdict:
    status: str  # "pass", "fail", "error" (did not load), "timeout", "refused"
    message: str


def run_isolated(
    code: str, tests: str, timeout: float, limits: Limits | None = None, config: SandboxConfig | None = None
) -> Verdict:
    """Run `tests` against the definitions of `code`; each side in its own sandbox."""
    limits = limits or Limits()
    config = config or SandboxConfig.from_settings()
    problem = sandbox_problem(config)
    if problem:
        return Verdict("refused", f"{problem}; TUTOR_KERNEL_SANDBOX=off runs code unsandboxed")
    to_learner_r, to_learner_w = os.pipe()
    to_tests_r, to_tests_w = os.pipe()
    ours = [to_learner_r, to_learner_w, to_tests_r, to_tests_w]  # closed exactly once: fd numbers get reused
    dirs: list[Path] = []
    procs: list[subprocess.Popen] = []
    try:
        for role, fds, source in (
            ("learner", (to_learner_r, to_tests_w), code),
            ("tests", (to_tests_r, to_learner_w), tests),
        ):
            workdir = Path(tempfile.mkdtemp(prefix=f"tutor-grade-{role}-"))
            dirs.append(workdir)
            procs.append(_spawn(role, fds, workdir, limits, config))
            _feed(procs[-1], source)
        _close_all(ours)
        tester = procs[1]
        try:
            out, _ = tester.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return Verdict("timeout", f"did not finish within {timeout:g} s")
        message = (out or b"").decode(errors="replace").strip().splitlines()
        text = message[-1] if message else ""
        status = {0: "pass", 1: "fail", 2: "error"}.get(tester.returncode, "fail")
        if status == "pass" and text != "pass":
            status = "fail"
        return Verdict(status, text.partition(":")[2].strip() if ":" in text else text)
    finally:
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        _close_all(ours)
        for workdir in dirs:
            shutil.rmtree(workdir, ignore_errors=True)


def _close_all(fds: list[int]) -> None:
    while fds:
        with contextlib.suppress(OSError):
            os.close(fds.pop())


def _spawn(role: str, fds: tuple[int, int], workdir: Path, limits: Limits, config: SandboxConfig) -> subprocess.Popen:
    command = [sandbox_python(), "-I", "-c", RUNTIME, role, str(fds[0]), str(fds[1])]
    if config.enabled:
        prepare_workdir(workdir, host_uid(config))
        argv = sandbox_argv(config, limits, workdir, command, kernel_env(HOME, tmpdir="/tmp"))
        env, cwd = {}, "/"
    else:
        prepare_workdir(workdir)
        argv, env, cwd = rlimit_prefix(limits) + command, kernel_env(workdir), str(workdir)
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE if role == "tests" else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=fds,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )


def _feed(proc: subprocess.Popen, text: str) -> None:
    """The source on stdin; both roles read all of it before anything else, so this cannot block."""
    with contextlib.suppress(OSError):
        proc.stdin.write(text.encode())
    with contextlib.suppress(OSError):
        proc.stdin.close()
    proc.stdin = None
