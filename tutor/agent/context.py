"""Run-scoped dependencies of the graph (LangGraph `Runtime[Context]`): never checkpointed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from tools.kernel import KernelService
    from tutor.config import Settings
    from tutor.learner.store import LearnerStore


@dataclass
class Context:
    """What a node needs besides the state: the model, settings, the learner store and the session's
    kernels (for the `run` node and the code tools; None: running code fails with a clear error)."""

    model: BaseChatModel
    settings: Settings
    learners: LearnerStore
    model_label: str = "embedded"
    embedded: bool = True  # the tiny model gets no tools and a stricter, grounded prompt
    kernels: KernelService | None = None
    extra: dict = field(default_factory=dict)
