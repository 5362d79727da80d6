"""Learner code execution in real Jupyter kernels: sandboxed launch, robust execution, per-session pool."""

from tools.kernel.execute import RunResult
from tools.kernel.service import KernelService, get_kernel_service

__all__ = ["KernelService", "RunResult", "get_kernel_service"]
