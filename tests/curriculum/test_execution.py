"""Every notebook and every runnable lesson snippet executes in a real Jupyter kernel."""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from tutor.curriculum.lessons import load_lessons
from tutor.curriculum.validate import knowledge_root

pytestmark = pytest.mark.slow
ROOT = knowledge_root()
NOTEBOOK_BUDGET_S = 60


def _execute(nb, cwd) -> float:
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=NOTEBOOK_BUDGET_S, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return time.perf_counter() - start


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
@pytest.mark.timeout(NOTEBOOK_BUDGET_S * 3)
def test_notebook_runs_top_to_bottom(path, tmp_path, record_property):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    elapsed = _execute(nb, tmp_path)
    record_property("seconds", round(elapsed, 1))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def _lessons_with_snippets():
    return [
        pytest.param(lesson, id=lesson.source)
        for lesson in load_lessons(ROOT)
        if any(b.runnable for b in lesson.code_blocks)
    ]


@pytest.mark.parametrize("lesson", _lessons_with_snippets())
def test_lesson_snippets_run_in_order(lesson, tmp_path):
    cells = [nbformat.v4.new_code_cell(b.code) for b in lesson.code_blocks if b.runnable and b.language == "python"]
    nb = nbformat.v4.new_notebook(cells=cells)
    _execute(nb, tmp_path)


def test_most_lessons_have_a_runnable_snippet():
    lessons = load_lessons(ROOT)
    with_code = [lesson for lesson in lessons if any(b.runnable for b in lesson.code_blocks)]
    assert len(with_code) >= len(lessons) - 2
