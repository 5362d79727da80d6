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
