"""jupyter_client's kernel manager, launching through our command line instead of a kernelspec.

The kernel spec is built in code (the sandboxed argv with `{connection_file}`); an interrupt is a SIGINT
to the kernel process itself (jupyter_client would signal bwrap's process group, and bwrap dies of it);
the connection file is handed to the sandbox uid, the only other party allowed to read it.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec


class SandboxKernelManager(AsyncKernelManager):
    def configure(self, argv: list[str], owner: int | None) -> None:
        """`argv` runs the kernel (with `{connection_file}`); `owner` is the host uid it runs as."""
        self._kernel_spec = KernelSpec(
            argv=argv, display_name="Python 3 (sandboxed)", language="python", interrupt_mode="signal", env={}
        )
        self._sandbox_owner = owner

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        owner = getattr(self, "_sandbox_owner", None)
        if owner is not None and os.path.exists(self.connection_file):
            os.chown(self.connection_file, owner, owner)

    async def interrupt_kernel(self) -> None:
        pid = kernel_pid(getattr(self.provisioner, "pid", None))
        if pid:
            os.kill(pid, signal.SIGINT)


def kernel_pid(launcher_pid: int | None) -> int | None:
    """The ipykernel process under the launcher: the oldest descendant running ipykernel_launcher (a
    learner's look-alike process always starts later)."""
    import psutil

    if not launcher_pid:
        return None
    candidates = []
    try:
        for proc in psutil.Process(launcher_pid).children(recursive=True):
            try:
                if proc.cmdline()[1:3] == ["-m", "ipykernel_launcher"]:  # not the bwraps around it
                    candidates.append((proc.create_time(), proc.pid))
            except psutil.Error:
                continue
    except psutil.Error:
        return None
    return min(candidates)[1] if candidates else None
