"""The learner's 3-week plan and "what's next", derived from tracks.yaml and their progress.

The plan is the roadmap's timeline adapted to the track (its optional items are marked optional and
dropped when time is short; its extras are added on their day) and ordered by strategy within each
block (lessons first for theory-first, notebooks first for practice-first, the project first for
project-driven). "What's next" is a due review first, else the first unfinished item of the plan
whose skills are not yet mastered, else the week's checkpoint quiz.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from tutor.curriculum.schema import CheckpointsFile, TracksFile
from tutor.paths import knowledge_dir

NOTEBOOK_MINUTES = 45
LIGHT_HOURS = 4  # below this, a track's optional items are left out of the plan


@lru_cache(maxsize=2)
def load_tracks(root: Path | None = None) -> TracksFile:
    return TracksFile(**yaml.safe_load(((root or knowledge_dir()) / "tracks.yaml").read_text()))


@lru_cache(maxsize=2)
def load_checkpoints(root: Path | None = None) -> CheckpointsFile:
    return CheckpointsFile(**yaml.safe_load(((root or knowledge_dir()) / "checkpoints.yaml").read_text()))


@lru_cache(maxsize=1)
def lesson_minutes() -> dict[str, int]:
    from tutor.curriculum.lessons import all_lessons

    return {lesson.source: lesson.meta.estimated_minutes for lesson in all_lessons()}


@dataclass
class PlanItem:
    path: str
    kind: str  # lesson | notebook | project
    optional: bool = False
    minutes: int = 0


@dataclass
class PlanBlock:
    week: int
    days: list[int]
    title: str
    items: list[PlanItem]
    skills: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        days = f"Day {self.days[0]}" if len(self.days) == 1 else f"Days {self.days[0]}-{self.days[-1]}"
        return f"Week {self.week} · {days}"


def build_plan(track: str, strategy: str, hours_per_week: float | None = None) -> list[PlanBlock]:
    tracks = load_tracks()
    spec = next(t for t in tracks.tracks if t.id == track)
    minutes = lesson_minutes()
    light = hours_per_week is not None and hours_per_week < LIGHT_HOURS
    blocks = []
    for week in tracks.timeline:
        for block in week.blocks:
            lessons = [PlanItem(p, "lesson", p in spec.optional, minutes.get(p, 30)) for p in block.read]
            notebooks = [PlanItem(p, "notebook", p in spec.optional, NOTEBOOK_MINUTES) for p in block.notebooks]
            for day in block.days:
                for extra in spec.extras.get(f"w{week.week}d{day}", []):
                    kind = "notebook" if extra.endswith(".ipynb") else "lesson"
                    item = PlanItem(
                        extra, kind, False, NOTEBOOK_MINUTES if kind == "notebook" else minutes.get(extra, 30)
                    )
                    (notebooks if kind == "notebook" else lessons).append(item)
            project = [PlanItem(block.project, "project", False, 120)] if block.project else []
            if strategy == "practice_first":
                items = notebooks + lessons + project
            elif strategy == "project_driven":
                items = project + notebooks + lessons
            else:
                items = lessons + notebooks + project
            seen: set[str] = set()
            items = [i for i in items if not (i.path in seen or seen.add(i.path))]
            if light:
                items = [i for i in items if not i.optional]
            blocks.append(PlanBlock(week.week, list(block.days), block.title, items, list(block.skills)))
    return blocks


def weeks_needed(plan: list[PlanBlock], hours_per_week: float | None) -> float | None:
    """How long the plan takes at the learner's pace (the roadmap assumes about 3 weeks)."""
    if not hours_per_week:
        return None
    total = sum(i.minutes for b in plan for i in b.items if not i.optional)
    return round(total / 60 / hours_per_week, 1)


def checkpoint_status(mastery: dict[str, float], quiz_scores: dict[int, float]) -> dict[int, dict]:
    """Per week: the roadmap checklist with ticks, and whether the checkpoint is passed (documented rule)."""
    out = {}
    for cp in load_checkpoints().checkpoints:
        items = [
            {"skill": s.id, "checklist": s.checklist, "mastered": mastery.get(s.id, 0.0) >= 0.95} for s in cp.skills
        ]
        passed = all(i["mastered"] for i in items) or quiz_scores.get(cp.week, 0.0) >= 0.8
        out[cp.week] = {"title": cp.title, "passed": passed, "checklist": items}
    return out


def next_step(
    plan: list[PlanBlock],
    done: set[str],
    mastery: dict[str, float],
    due_reviews: list[str],
    checkpoints: dict[int, dict],
) -> dict:
    """The single thing the learner should do now."""
    if due_reviews:
        return {"kind": "review", "skill": due_reviews[0], "text": f"Review due: quiz yourself on {due_reviews[0]}."}
    for block in plan:
        skills_mastered = block.skills and all(mastery.get(s, 0.0) >= 0.95 for s in block.skills)
        if skills_mastered:
            continue
        for item in block.items:
            if item.path not in done and not item.optional:
                return {
                    "kind": item.kind,
                    "path": item.path,
                    "where": block.label,
                    "text": f"{block.label}: {item.path}",
                }
        week = block.week
        last_of_week = block is max((b for b in plan if b.week == week), key=lambda b: b.days[-1])
        if last_of_week and not checkpoints.get(week, {}).get("passed"):
            return {
                "kind": "checkpoint",
                "week": week,
                "text": f"Take the Week {week} checkpoint quiz (/quiz week {week}).",
            }
    return {"kind": "done", "text": "You have finished the plan. Pick a capstone project and build it!"}


def position(plan: list[PlanBlock], done: set[str]) -> str:
    """'Week 1 · Day 3': the first block with unfinished required items."""
    for block in plan:
        if any(i.path not in done and not i.optional for i in block.items):
            return block.label
    return "Week 3 · Day 7"
