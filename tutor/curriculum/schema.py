"""Pydantic schemas for the curriculum's YAML files and lesson front matter.

The teaching core (placement, plans, quizzes, mastery) reads only these validated objects, so a
malformed file fails loudly in tests instead of confusing a learner at run time.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TrackId = Literal["software_engineer", "data_scientist", "ml_researcher", "product_manager"]
StrategyId = Literal["theory_first", "practice_first", "project_driven"]
SkillId = Literal[
    "w1.attention",
    "w1.encoder_decoder",
    "w1.pretrained_models",
    "w1.text_classification",
    "w2.prompting",
    "w2.rag",
    "w2.finetuning_vs_pretraining",
    "w2.end_to_end_app",
    "w3.deployment",
    "w3.optimization",
    "w3.capstone",
    "w3.teaching",
]
NonEmpty = Annotated[str, Field(min_length=1)]
TRACKS: tuple[str, ...] = get_args(TrackId)
STRATEGIES: tuple[str, ...] = get_args(StrategyId)
SKILLS: tuple[str, ...] = get_args(SkillId)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- lessons


class LessonMeta(Strict):
    """Front matter of a lesson markdown file."""

    title: NonEmpty
    module: NonEmpty
    week: int = Field(ge=1, le=3)
    skills: list[SkillId] = Field(min_length=1)
    objectives: list[NonEmpty] = Field(min_length=1)
    estimated_minutes: int = Field(ge=5, le=120)


# ---------------------------------------------------------------- tracks.yaml


class Phase(Strict):
    title: NonEmpty
    days: int = Field(ge=1, le=21)
    focus: NonEmpty


class Track(Strict):
    id: TrackId
    name: NonEmpty
    description: NonEmpty
    strengths: list[NonEmpty] = Field(min_length=1)
    focus_areas: list[NonEmpty] = Field(min_length=1)
    recommended_path: list[Phase] = Field(min_length=1)
    key_projects: list[NonEmpty] = Field(min_length=1)
    default_strategy: StrategyId
    # Emphasis weights per week theme, used to adapt the daily plan (e.g. skip optional theory).
    emphasis: dict[Literal["theory", "practice", "production", "business"], float]
    # Items (lesson or notebook paths) this track treats as optional in the shared timeline.
    optional: list[NonEmpty] = Field(default_factory=list)
    # Extra items this track adds to specific days, keyed "w<week>d<day>".
    extras: dict[NonEmpty, list[NonEmpty]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _path_fits_in_three_weeks(self) -> Track:
        if sum(p.days for p in self.recommended_path) > 21:
            raise ValueError(f"track {self.id}: recommended path exceeds 21 days")
        return self


class Strategy(Strict):
    id: StrategyId
    name: NonEmpty
    best_for: NonEmpty
    steps: list[NonEmpty] = Field(min_length=3)


class DayPlan(Strict):
    days: list[int] = Field(min_length=1)  # day numbers within the week, 1..7
    title: NonEmpty
    read: list[NonEmpty] = Field(default_factory=list)  # lesson paths relative to knowledge/
    notebooks: list[NonEmpty] = Field(default_factory=list)  # notebook paths relative to knowledge/
    project: str | None = None
    skills: list[SkillId] = Field(default_factory=list)


class WeekPlan(Strict):
    week: int = Field(ge=1, le=3)
    title: NonEmpty
    theory_share: float = Field(ge=0, le=1)
    blocks: list[DayPlan] = Field(min_length=1)


class Capstone(Strict):
    id: NonEmpty
    title: NonEmpty
    description: NonEmpty
    tracks: list[TrackId] = Field(min_length=1)
    deliverables: list[NonEmpty] = Field(min_length=1)


class MasteryIndicators(Strict):
    technical: list[NonEmpty] = Field(min_length=1)
    practical: list[NonEmpty] = Field(min_length=1)
    conceptual: list[NonEmpty] = Field(min_length=1)


class TracksFile(Strict):
    tracks: list[Track] = Field(min_length=4, max_length=4)
    strategies: list[Strategy] = Field(min_length=3, max_length=3)
    timeline: list[WeekPlan] = Field(min_length=3, max_length=3)
    capstones: list[Capstone] = Field(min_length=1)
    mastery_indicators: MasteryIndicators

    @model_validator(mode="after")
    def _ids_complete(self) -> TracksFile:
        if sorted(t.id for t in self.tracks) != sorted(TRACKS):
            raise ValueError("tracks.yaml must define each of the four tracks exactly once")
        if sorted(s.id for s in self.strategies) != sorted(STRATEGIES):
            raise ValueError("tracks.yaml must define each of the three strategies exactly once")
        if [w.week for w in self.timeline] != [1, 2, 3]:
            raise ValueError("timeline must list weeks 1, 2, 3 in order")
        return self


# ---------------------------------------------------------------- checkpoints.yaml


class CheckpointSkill(Strict):
    id: SkillId
    checklist: NonEmpty  # the roadmap's checklist line, shown with a tick when passed
    objectives: list[NonEmpty] = Field(min_length=1)
    sections: list[NonEmpty] = Field(min_length=1)  # "path.md#anchor" that teach the skill


class Checkpoint(Strict):
    week: int = Field(ge=1, le=3)
    title: NonEmpty
    skills: list[CheckpointSkill] = Field(min_length=4, max_length=4)


class CheckpointsFile(Strict):
    pass_rule: NonEmpty
    checkpoints: list[Checkpoint] = Field(min_length=3, max_length=3)

    @model_validator(mode="after")
    def _all_skills_once(self) -> CheckpointsFile:
        ids = [s.id for c in self.checkpoints for s in c.skills]
        if sorted(ids) != sorted(SKILLS):
            raise ValueError("checkpoints.yaml must list each of the 12 checkpoint skills once")
        for c in self.checkpoints:
            for s in c.skills:
                if not s.id.startswith(f"w{c.week}."):
                    raise ValueError(f"skill {s.id} listed under week {c.week}")
        return self


# ---------------------------------------------------------------- quizzes/*.yaml


class Option(Strict):
    id: Literal["a", "b", "c", "d"]
    text: NonEmpty
    explanation: NonEmpty  # why this option is right or wrong


class Link(Strict):
    """Two roles a learner could swap: where `a` is said with a partner, the partner must be `b`."""

    a: NonEmpty
    b: NonEmpty
    not_b: NonEmpty


class NumberCheck(Strict):
    value: float
    tolerance: float = Field(default=0.02, ge=0)  # relative


class RubricPoint(Strict):
    point: NonEmpty  # what a full answer must say
    key_terms: list[NonEmpty] = Field(min_length=1)  # words/phrases, any of which signals the point
    weight: float = Field(default=1.0, gt=0)
    # what fails the point although the words are right (checked offline and given to a model grader)
    wrong: list[NonEmpty] = Field(default_factory=list)  # false statements that sound like the point
    links: list[Link] = Field(default_factory=list)  # roles that must not be swapped
    numbers: list[NumberCheck] = Field(default_factory=list)  # a number the answer must state
    self_assess: bool = False  # not checkable offline: the learner judges it against the reference


class ItemBase(Strict):
    id: NonEmpty
    prompt: NonEmpty
    difficulty: int = Field(ge=1, le=3)
    explanation: NonEmpty  # shown after grading
    section: NonEmpty  # "path.md#anchor" to revisit
    hint: NonEmpty


class McqItem(ItemBase):
    type: Literal["mcq"]
    options: list[Option] = Field(min_length=4, max_length=4)
    answer: Literal["a", "b", "c", "d"]

    @model_validator(mode="after")
    def _options_valid(self) -> McqItem:
        if [o.id for o in self.options] != ["a", "b", "c", "d"]:
            raise ValueError(f"{self.id}: options must have ids a, b, c, d in order")
        texts = [o.text.strip().lower() for o in self.options]
        if len(set(texts)) != 4:
            raise ValueError(f"{self.id}: option texts must be distinct")
        return self


class ShortItem(ItemBase):
    type: Literal["short"]
    reference_answer: NonEmpty
    rubric: list[RubricPoint] = Field(min_length=2, max_length=4)


class CodeItem(ItemBase):
    type: Literal["code"]
    starter_code: NonEmpty
    solution: NonEmpty
    tests: NonEmpty  # hidden: plain asserts run after the learner's code in a separate namespace


class NumericItem(ItemBase):
    """A question whose honest answer is one number: graded by value, not by the words around it."""

    type: Literal["numeric"]
    answer: float
    tolerance: float = Field(default=0.01, gt=0, lt=0.5)  # relative
    unit: str = ""  # the unit the prompt asks for, shown with the question


QuizItem = Annotated[McqItem | ShortItem | CodeItem | NumericItem, Field(discriminator="type")]


class QuizFile(Strict):
    skill: SkillId
    items: list[QuizItem] = Field(min_length=8)

    @field_validator("items")
    @classmethod
    def _ids_unique(cls, items: list) -> list:
        ids = [i.id for i in items]
        if len(ids) != len(set(ids)):
            raise ValueError("quiz item ids must be unique within a file")
        return items

    @model_validator(mode="after")
    def _ids_prefixed(self) -> QuizFile:
        for item in self.items:
            if not item.id.startswith(self.skill + "."):
                raise ValueError(f"item id {item.id} must start with '{self.skill}.'")
        return self
