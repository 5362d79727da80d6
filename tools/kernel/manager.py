"""jupyter_client's kernel manager, launching through our command line instead of a kernelspec.

The kernel spec is built in code (the sandboxed argv with `{connection_file}`), interrupts go over the
control channel (a SIGINT to bwrap would kill the sandbox rather than interrupt the kernel), and the
connection file is handed to the sandbox uid, the only other party allowed to read it.
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec


class SandboxKernelManager(AsyncKernelManager):
    def configure(self, argv: list[str], owner: int | None) -> None:
        """`argv` runs the kernel (with `{connection_file}`); `owner` is the host uid it runs as."""
        self._kernel_spec = KernelSpec(
            argv=argv, display_name="Python 3 (sandboxed)", language="python", interrupt_mode="message", env={}
        )
        self._sandbox_owner = owner

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        owner = getattr(self, "_sandbox_owner", None)
        if owner is not None and os.path.exists(self.connection_file):
            os.chown(self.connection_file, owner, owner)
