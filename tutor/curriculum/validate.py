"""Structural checks over the whole of knowledge/ that need no kernel: `python -m tutor.curriculum.validate`.

Returns a list of problems (empty when the course is consistent); the tests assert it is empty and
the helper CLI prints it, so authors get the same verdict as CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from pydantic import ValidationError

from tutor.curriculum.lessons import Lesson, load_lessons
from tutor.curriculum.schema import CheckpointsFile, QuizFile, TracksFile

REQUIRED_LESSON_HEADINGS = ("common-misconceptions", "self-check-questions")
MIN_WORDS, MAX_WORDS = 1200, 3000


def knowledge_root() -> Path:
    from tutor.paths import knowledge_dir

    return knowledge_dir()


def _check_ref(ref: str, lessons: dict[str, Lesson], root: Path, where: str) -> list[str]:
    path, _, anchor = ref.partition("#")
    if path.endswith(".ipynb"):
        return [] if (root / path).exists() else [f"{where}: notebook {path} does not exist"]
    lesson = lessons.get(path)
    if lesson is None:
        return [f"{where}: lesson {path} does not exist"]
    if anchor and anchor not in lesson.anchors:
        return [f"{where}: {path} has no heading with anchor #{anchor}"]
    return []


def validate(root: Path | None = None) -> list[str]:
    root = root or knowledge_root()
    problems: list[str] = []
    try:
        lesson_list = load_lessons(root)
    except (ValidationError, ValueError) as exc:
        return [f"lessons: {exc}"]
    lessons = {lesson.source: lesson for lesson in lesson_list}
    for lesson in lesson_list:
        words = lesson.word_count()
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{lesson.source}: {words} words, expected {MIN_WORDS}-{MAX_WORDS}")
        for needed in REQUIRED_LESSON_HEADINGS:
            if needed not in lesson.anchors:
                problems.append(f"{lesson.source}: missing '## {needed.replace('-', ' ').capitalize()}'")
        if sum(1 for s in lesson.sections if s.level == 2) < 4:
            problems.append(f"{lesson.source}: fewer than 4 '##' sections")

    try:
        tracks = TracksFile(**yaml.safe_load((root / "tracks.yaml").read_text()))
        for week in tracks.timeline:
            for block in week.blocks:
                for ref in block.read + block.notebooks:
                    problems += _check_ref(ref, lessons, root, f"tracks.yaml week {week.week}")
        for track in tracks.tracks:
            for ref in track.optional + [r for refs in track.extras.values() for r in refs]:
                problems += _check_ref(ref, lessons, root, f"tracks.yaml track {track.id}")
    except FileNotFoundError:
        problems.append("tracks.yaml is missing")
    except ValidationError as exc:
        problems.append(f"tracks.yaml: {exc}")

    try:
        checkpoints = CheckpointsFile(**yaml.safe_load((root / "checkpoints.yaml").read_text()))
        for cp in checkpoints.checkpoints:
            for skill in cp.skills:
                for ref in skill.sections:
                    problems += _check_ref(ref, lessons, root, f"checkpoints.yaml {skill.id}")
    except FileNotFoundError:
        problems.append("checkpoints.yaml is missing")
    except ValidationError as exc:
        problems.append(f"checkpoints.yaml: {exc}")

    all_ids: set[str] = set()
    for quiz_path in sorted((root / "quizzes").glob("*.yaml")):
        try:
            quiz = QuizFile(**yaml.safe_load(quiz_path.read_text()))
        except ValidationError as exc:
            problems.append(f"quizzes/{quiz_path.name}: {exc}")
            continue
        if quiz_path.stem != quiz.skill:
            problems.append(f"quizzes/{quiz_path.name}: file name must be {quiz.skill}.yaml")
        for item in quiz.items:
            if item.id in all_ids:
                problems.append(f"quiz item id {item.id} is used twice")
            all_ids.add(item.id)
            problems += _check_ref(item.section, lessons, root, f"quiz item {item.id}")
    problems += _check_section_questions(root, lessons)
    return problems


MIN_SECTION_QUESTIONS = 3


def _check_section_questions(root: Path, lessons: dict[str, Lesson]) -> list[str]:
    """Every lesson section (but the self-checks) has learner questions, and every question names a real
    section: a lesson added without them is found by retrieval only through its own words."""
    from tutor.curriculum.section_questions import FILE, load_questions

    if not (root / FILE).exists():
        return [f"{FILE} is missing"]
    problems, count = [], {}
    for q in load_questions(root):
        if q.source not in lessons or q.anchor not in lessons[q.source].anchors:
            problems.append(f"{FILE}: no section {q.citation}")
        count[q.citation] = count.get(q.citation, 0) + 1
    for lesson in lessons.values():
        for section in lesson.sections:
            if section.level != 2 or section.anchor == "self-check-questions":
                continue
            citation = f"{lesson.source}#{section.anchor}"
            if count.get(citation, 0) < MIN_SECTION_QUESTIONS:
                problems.append(f"{FILE}: {citation} has {count.get(citation, 0)} questions, expected >= 3")
    return problems


_RUNNER = """
import sys
learner, tests = sys.stdin.read().split("\\n#<<TESTS>>\\n")
ns = {"__name__": "__learner__"}
exec(compile(learner, "<learner>", "exec"), ns)
exec(compile(tests, "<tests>", "exec"), dict(ns))
"""


def run_code_item(code: str, tests: str, timeout: float = 60) -> bool:
    """Run learner code then the hidden tests in a fresh interpreter; True when every assert passes."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=f"{code}\n#<<TESTS>>\n{tests}",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode == 0


def check_code_items(root: Path | None = None) -> list[str]:
    """Each code exercise's solution passes its hidden tests and its starter code fails them."""
    root = root or knowledge_root()
    problems = []
    for quiz_path in sorted((root / "quizzes").glob("*.yaml")):
        quiz = QuizFile(**yaml.safe_load(quiz_path.read_text()))
        for item in quiz.items:
            if item.type != "code":
                continue
            if not run_code_item(item.solution, item.tests):
                problems.append(f"{item.id}: reference solution fails its hidden tests")
            if run_code_item(item.starter_code, item.tests):
                problems.append(f"{item.id}: starter code passes its hidden tests")
    return problems


def main() -> int:
    problems = validate()
    if "--code" in sys.argv[1:] and not problems:
        problems += check_code_items()
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
