"""Learner code execution in real Jupyter kernels: sandboxed launch, robust execution, per-session pool."""

from tools.kernel.execute import RunResult
from tools.kernel.service import KernelService, NoKernelService

__all__ = ["KernelService", "NoKernelService", "RunResult"]
