"""Run-scoped dependencies of the graph (LangGraph `Runtime[Context]`): never checkpointed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from tutor.config import Settings
    from tutor.learners import LearnerStore


@dataclass
class Context:
    """What a node needs besides the state: the model, settings and the learner store."""

    model: BaseChatModel
    settings: Settings
    learners: LearnerStore
    model_label: str = "embedded"
    embedded: bool = True  # the tiny model gets no tools and a stricter, grounded prompt
    extra: dict = field(default_factory=dict)
