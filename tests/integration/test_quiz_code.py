"""Code exercises graded in a real kernel: references pass, starters fail, tampering and loops fail."""

from __future__ import annotations

import pytest

from tools.kernel import KernelService
from tools.quiz.bank import get_item, load_bank
from tools.quiz.grading import grade

pytestmark = pytest.mark.slow
CODE_ITEMS = [i for i in load_bank().values() if i.type == "code"]


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    service = KernelService(root=tmp_path_factory.mktemp("quiz-kernels"), pool_size=1)
    yield service
    service.shutdown()


def _runner(kernels, session):
    return lambda code, timeout: kernels.run(session, code, timeout)


@pytest.mark.parametrize("item", CODE_ITEMS, ids=lambda i: i.id)
def test_reference_passes_and_starter_fails_in_the_kernel(kernels, item):
    assert grade(item, item.solution, run=_runner(kernels, item.id)).correct
    assert not grade(item, item.starter_code, run=_runner(kernels, item.id)).correct


SOFTMAX = (
    get_item("w1.attention.code-stable-softmax") if "w1.attention.code-stable-softmax" in load_bank() else CODE_ITEMS[0]
)


@pytest.mark.parametrize(
    "tamper",
    [
        "import sys\nsys.exit(0)",
        "import os\nos._exit(0)",
        "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.AssertionError = Exception",
        "import sys\nprint('pass')\nsys.stdout.write('0123456789abcdef0123456789abcdef\\n')",
        "raise SystemExit",
    ],
)
def test_tampering_never_passes(kernels, tamper):
    result = grade(SOFTMAX, tamper, run=_runner(kernels, "tamper"))
    assert not result.correct and result.score == 0


def test_infinite_loop_times_out_and_is_wrong(kernels):
    result = grade(SOFTMAX, "while True:\n    pass", run=lambda code, t: kernels.run("loop", code, 2))
    assert not result.correct and "did not finish" in result.feedback
    assert kernels.run("loop", "print('alive')").stdout == "alive\n"


def test_state_left_in_the_learners_kernel_does_not_count(kernels):
    kernels.run("stateful", SOFTMAX.solution)  # softmax now lives in the learner's kernel
    result = grade(SOFTMAX, "print('softmax is already defined')", run=_runner(kernels, "stateful"))
    assert not result.correct


FRAME_AND_FORMATTER = """
import sys
try:
    caller = sys._getframe(1).f_locals
    print(sorted(caller))
except Exception:
    pass
try:
    ip = get_ipython()
    ip.display_formatter.formatters["text/plain"].for_type(str, lambda *a: "'pass'")
except Exception:
    pass
def softmax(x, axis=-1):
    outer = sys._getframe(1)
    while outer is not None:  # hunt for anything that looks like a verdict or a marker
        for name, value in list(outer.f_locals.items()):
            if isinstance(value, str) and len(value) == 32:
                print(value)
        outer = outer.f_back
    return x
"""


def test_frame_reading_and_formatter_patching_fail():
    assert not grade(SOFTMAX, FRAME_AND_FORMATTER).correct


def test_learner_code_cannot_import_the_bank_or_read_the_hidden_tests():
    from tools.kernel.sandbox import SandboxConfig, sandbox_problem
    from tools.quiz.isolated import run_isolated

    if sandbox_problem(SandboxConfig()):
        pytest.skip("no bubblewrap sandbox here")
    assert not grade(SOFTMAX, "from tools.quiz.bank import load_bank\nbank = load_bank()").correct
    canary = "CANARY-" + "7f3a9c"
    probe = """
import gc, os, sys
def probe():
    seen = []
    frame = sys._getframe(1)
    while frame is not None:
        seen.append(repr(frame.f_locals) + repr(frame.f_code.co_consts))
        frame = frame.f_back
    seen += [repr(o) for o in gc.get_objects() if isinstance(o, (str, dict, tuple))]
    for pid in os.listdir("/proc"):
        for name in ("cmdline", "environ"):
            try:
                seen.append(open(f"/proc/{pid}/{name}", "rb").read().decode(errors="replace"))
            except OSError:
                pass
    for fd in range(3, 20):
        try:
            os.set_blocking(fd, False)
            seen.append(os.read(fd, 65536).decode(errors="replace"))
        except OSError:
            pass
    needle = "-".join(["CANARY", "7f3a9c"])  # built at run time, after the search: it cannot find itself
    return "found" if any(needle in s for s in seen) else "clean"
"""
    verdict = run_isolated(probe, f"# {canary}\nsecret = '{canary}'\nassert probe() == 'clean'\n", 20)
    assert verdict.status == "pass", verdict
