"""Kernels per learner session: a pre-warmed pool, timeouts with interrupt-then-restart, dead-kernel
recovery, a process-tree watchdog (processes, memory, disk) and idle culling.

Every local kernel runs in a bubblewrap sandbox (see sandbox.py); when the sandbox cannot be created,
learner code is refused unless TUTOR_KERNEL_SANDBOX=off says otherwise. A learner's working directory
is keyed by learner and outlives culls, restarts and server restarts; a sweep removes old ones.

jupyter_client's async API runs on one private event loop in a daemon thread; the graph, the CLI and
the UI call the synchronous facade (`run`, `restart`, `interrupt`), which is safe from any thread.
Each session executes one thing at a time; different sessions run concurrently.

A `TutorSession` owns one service built from its own settings (`KernelService.from_settings`) and hands
it to the graph in `Context.kernels`; there is no process-wide service built from global settings.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
import os
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.kernel import workdirs
from tools.kernel.execute import RunResult, run_on_client
from tools.kernel.sandbox import (
    HOME,
    Limits,
    SandboxConfig,
    host_uid,
    kernel_env,
    prepare_workdir,
    rlimit_prefix,
    sandbox_argv,
    sandbox_problem,
    sandbox_python,
    user_process_count,
)

if TYPE_CHECKING:
    from tutor.config import Settings

MAX_CODE_CHARS = 100_000
LOST_VARIABLES = "The kernel was restarted: your variables and imports are gone, so re-run earlier cells."
WATCHDOG_S = 0.1
IDLE_WATCH_S = 1.0  # background processes left behind by a run are checked this often between runs
DISK_CHECK_S = 0.5
log = logging.getLogger(__name__)


@dataclass
class KernelHandle:
    manager: Any  # AsyncKernelManager
    client: Any  # AsyncKernelClient
    workdir: Path
    runtime_dir: Path
    session_id: str | None = None
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    violation: str | None = None  # why the watchdog killed it between runs (told on the next run)

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.manager, "provisioner", None)
        return getattr(provisioner, "pid", None)


class NoKernelService(RuntimeError):
    """Code was to run, but nothing gave it a kernel service (no session's `Context.kernels`)."""


class KernelService:
    """All learner kernels of one owner (a tutor session, a CLI command, a test)."""

    def __init__(
        self,
        root: Path,
        limits: Limits | None = None,
        pool_size: int = 1,
        idle_cull_s: float = 1800,
        default_timeout: float = 30,
        gateway_url: str | None = None,
        sandbox: SandboxConfig | None = None,
        workdir_keep_days: float = 30,
        max_kernels: int | None = None,
        lazy: bool = False,
    ) -> None:
        """`lazy`: start the event loop, the pool and the housekeeping on first use, not here, so an
        owner that may never run code (a session answering questions) costs no kernel process."""
        self.root = Path(root)
        self.max_kernels = max_kernels
        self.gateway_url = gateway_url
        self.limits = limits or Limits()
        self.sandbox = sandbox or SandboxConfig.from_settings()
        self.workdir_keep_days = workdir_keep_days
        self.pool_size = pool_size
        self.idle_cull_s = idle_cull_s
        self.default_timeout = default_timeout
        self.sessions: dict[str, KernelHandle] = {}
        self._pool: list[KernelHandle] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        atexit.register(self.shutdown)  # no kernel outlives the process
        if not lazy:
            self._ensure_started()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> KernelService:
        """A service configured from `settings` (kernels under `settings.data_dir / "kernels"`);
        `overrides` replace constructor arguments, e.g. `pool_size=0` for a one-shot command."""
        s = settings
        kwargs: dict[str, Any] = {
            "root": s.data_dir / "kernels",
            "limits": Limits(memory_mb=s.kernel_memory_mb, cpu_s=s.kernel_cpu_s, disk_mb=s.kernel_disk_mb),
            "pool_size": s.kernel_pool_size,
            "idle_cull_s": s.kernel_idle_cull_s,
            "default_timeout": s.kernel_timeout_s,
            "gateway_url": s.kernel_gateway_url,
            "sandbox": SandboxConfig.from_settings(s),
            "workdir_keep_days": s.kernel_workdir_keep_days,
            "max_kernels": s.max_kernels,
        }
        return cls(**(kwargs | overrides))

    @functools.cached_property
    def refusal(self) -> str | None:
        """Why learner code is refused (no sandbox here), or None; probed once, on first need."""
        problem = None if self.gateway_url else sandbox_problem(self.sandbox)
        if problem:
            log.warning("Learner code is refused: %s (set TUTOR_KERNEL_SANDBOX=off to run it unsandboxed).",
                        problem)  # fmt: skip
        return problem

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._closed:
                raise NoKernelService("This kernel service has been shut down (its session was closed).")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="kernels", daemon=True)
                self._thread.start()
                self._loop = loop
                asyncio.run_coroutine_threadsafe(self._start_background(), loop).result()
            return self._loop

    # ------------------------------------------------------------------ sync facade

    def _call(self, coro, timeout: float | None = None):
        try:
            loop = self._ensure_started()
        except NoKernelService:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def run(self, session_id: str, code: str, timeout: float | None = None) -> RunResult:
        """Run code in the session's kernel (started or taken from the pool on first use)."""
        return self._call(self.arun(session_id, code, timeout))

    def restart(self, session_id: str) -> str:
        return self._call(self.arestart(session_id))

    def interrupt(self, session_id: str) -> bool:
        return self._call(self.ainterrupt(session_id))

    def shutdown(self) -> None:
        """Kill every kernel (learners' files stay) and stop the loop; idempotent."""
        with self._start_lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.shutdown)
        if self._loop is None or self._thread is None:  # lazy and never used
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown_all(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def pool_ready(self) -> bool:
        """True when a pre-warmed kernel is waiting (or no pool is configured)."""
        return self.pool_size == 0 or bool(self._pool)

    def cull(self) -> int:
        """Shut down kernels idle longer than `idle_cull_s` now (also runs periodically)."""
        return self._call(self.cull_idle())

    def has_session(self, session_id: str) -> bool:
        return session_id in self.sessions

    @property
    def isolation(self) -> str:
        """Which isolation is in force, in words the web UI can show."""
        if self.gateway_url:
            return "Kernel Gateway (isolation is the gateway's)"
        if self.refusal:
            return f"none: learner code is refused ({self.refusal}; TUTOR_KERNEL_SANDBOX=off runs it unsandboxed)"
        return self.sandbox.describe()

    # ------------------------------------------------------------------ kernels

    async def _start_kernel(self) -> KernelHandle:
        if self.gateway_url:
            return await self._start_gateway_kernel()
        from tools.kernel.manager import SandboxKernelManager

        self.root.mkdir(parents=True, exist_ok=True)
        kid = uuid.uuid4().hex[:12]
        owner = host_uid(self.sandbox)
        workdir = workdirs.new_pool_dir(self.root, kid)
        prepare_workdir(workdir, owner)
        runtime_dir = workdirs.new_runtime_dir(kid, owner)
        km = SandboxKernelManager(transport="ipc")
        km.ip = str(runtime_dir / "k")
        km.connection_file = str(runtime_dir / "kernel.json")
        env = self._configure(km, workdir, runtime_dir)
        await km.start_kernel(env=env, cwd="/" if self.sandbox.enabled else str(workdir))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
        except Exception:
            await self._kill(KernelHandle(km, kc, workdir, runtime_dir))
            raise
        return KernelHandle(km, kc, workdir, runtime_dir)

    def _configure(self, km: Any, workdir: Path, runtime_dir: Path) -> dict[str, str]:
        """Set the kernel's launch command (also before a restart: the working dir may have moved)."""
        kernel = [sandbox_python(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        kernel.append("--HistoryManager.enabled=False")
        if self.sandbox.enabled:
            env = kernel_env(HOME, tmpdir="/tmp") | {"JPY_PARENT_PID": "1"}  # 1: no parent poller, no banner
            binds = [(str(runtime_dir), str(runtime_dir))]
            argv = sandbox_argv(self.sandbox, self.limits, workdir, kernel, env, binds)
        else:
            env = kernel_env(workdir)
            argv = rlimit_prefix(self.limits, user_process_count() + self.limits.max_procs) + kernel
            if getattr(km, "_launch_args", None):
                km._launch_args["cwd"] = str(workdir)
                km._launch_args["env"] = env
        km.configure(argv, host_uid(self.sandbox))
        return env

    async def _start_gateway_kernel(self) -> KernelHandle:
        """A kernel on a Jupyter Kernel Gateway (HTTP + WebSocket): isolation and limits are the
        gateway host's job (e.g. Enterprise Gateway pods); it never sees this process's environment."""
        from jupyter_server.gateway.gateway_client import GatewayClient
        from jupyter_server.gateway.managers import GatewayKernelManager

        GatewayClient.instance().url = self.gateway_url
        km = GatewayKernelManager(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        await _maybe_await(kc.start_channels())
        await kc.wait_for_ready(timeout=60)
        here = self.root / "gateway"
        return KernelHandle(km, kc, workdir=here, runtime_dir=here)

    async def _kill(self, handle: KernelHandle) -> None:
        with contextlib.suppress(Exception):
            handle.client.stop_channels()
        self._killpg(handle)
        with contextlib.suppress(Exception):
            await handle.manager.shutdown_kernel(now=True)
        if not self.gateway_url:
            shutil.rmtree(handle.runtime_dir, ignore_errors=True)
            if handle.session_id is None:  # an unassigned pool kernel; a learner's files stay
                shutil.rmtree(handle.workdir, ignore_errors=True)
            else:
                workdirs.touch(handle.workdir)

    def _killpg(self, handle: KernelHandle) -> None:
        """Kill the kernel and everything it spawned: its process group, and with the sandbox the outer
        bwrap, whose death takes the whole PID namespace (detached children included) with it."""
        pid = handle.pid
        if not pid:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if self.sandbox.enabled:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    async def _restart(self, handle: KernelHandle, died: bool = False) -> None:
        """A fresh kernel process in the same working dir (files stay, variables go)."""
        with contextlib.suppress(Exception):
            handle.client.stop_channels()
        self._killpg(handle)
        if self.gateway_url and died:
            await self._await_gateway_restart(handle)  # the gateway's own restarter is already at it
        else:
            # restart_kernel reuses the launch arguments (environment, cwd, rlimits) and connection info
            await handle.manager.restart_kernel(now=True)
        handle.client = handle.manager.client()
        await _maybe_await(handle.client.start_channels())
        await handle.client.wait_for_ready(timeout=60)

    async def _await_gateway_restart(self, handle: KernelHandle, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if await handle.manager.is_alive():
                    return
            await asyncio.sleep(0.25)
        await handle.manager.restart_kernel(now=True)

    async def _take(self, session_id: str) -> KernelHandle:
        handle = self.sessions.get(session_id)
        if handle is not None:
            return handle
        handle = self._pool.pop() if self._pool else await self._start_kernel()
        handle.session_id = session_id
        if not self.gateway_url:
            handle.workdir = workdirs.adopt(self.root, handle.workdir, session_id)
            self._configure(handle.manager, handle.workdir, handle.runtime_dir)
        self.sessions[session_id] = handle
        self._loop.create_task(self._fill_pool())
        return handle

    async def _fill_pool(self) -> None:
        while len(self._pool) < self.pool_size and not self._closed:
            try:
                self._pool.append(await self._start_kernel())
            except Exception:
                return  # the next request starts a kernel itself and reports any real problem

    # ------------------------------------------------------------------ execution

    async def arun(self, session_id: str, code: str, timeout: float | None = None) -> RunResult:
        if len(code) > MAX_CODE_CHARS:
            return RunResult(
                status="error",
                error={
                    "ename": "CodeTooLong",
                    "evalue": f"Code is {len(code):,} characters; the limit is {MAX_CODE_CHARS:,}.",
                    "traceback": "",
                },
            )
        if self.refusal:
            return RunResult(status="error", error={"ename": "SandboxUnavailable", "evalue": self.isolation,
                                                    "traceback": ""})  # fmt: skip
        timeout = float(timeout or self.default_timeout)
        full = self.max_kernels is not None and len(self.sessions) >= self.max_kernels
        if full and session_id not in self.sessions:
            await self.cull_idle()
        if full and session_id not in self.sessions and len(self.sessions) >= self.max_kernels:
            busy = f"All {self.max_kernels} Python kernels of this server are in use (TUTOR_MAX_KERNELS)."
            return RunResult(status="error", error={"ename": "TooManyKernels", "traceback": "",
                                                    "evalue": f"{busy} Try again in a few minutes."})  # fmt: skip
        handle = await self._take(session_id)
        async with handle.lock:
            handle.last_used = time.monotonic()
            if handle.violation:  # killed between runs by the idle watchdog
                reason, handle.violation = handle.violation, None
                await self._restart(handle, died=True)
                return RunResult(status="died", notice=f"{reason} {LOST_VARIABLES}")
            watchdog = asyncio.create_task(self._watch_processes(handle))
            try:
                result, outcome = await run_on_client(handle.client, code, timeout, handle.manager.is_alive)
            finally:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
            too_many = watchdog.result() if watchdog.done() and not watchdog.cancelled() else None
            if outcome == "timeout":
                result.status = "timeout"
                if await self._interrupt_until_idle(handle):
                    result.notice = _join(result.notice, f"Stopped after {timeout:g} s (variables kept).")
                else:
                    await self._restart(handle)
                    result.notice = _join(result.notice, f"Stopped after {timeout:g} s. {LOST_VARIABLES}")
            elif outcome == "died" or too_many:
                result.status = "died"
                reason = too_many or "The kernel died (it crashed or exited)."
                await self._restart(handle, died=True)
                result.notice = _join(result.notice, f"{reason} {LOST_VARIABLES}")
            handle.last_used = time.monotonic()
            return result

    async def _watch_processes(self, handle: KernelHandle, interval: float = WATCHDOG_S) -> str | None:
        """Kill the kernel when its process tree grows beyond the process or memory limit, or its working
        directory beyond the disk limit; returns the reason. RLIMIT_AS is per process, so this is what
        bounds a tree of children; with cgroups v1 only, it is also the backstop for RLIMIT_NPROC."""
        pid = handle.pid
        if not pid:
            return None
        disk_start = workdirs.usage_mb(handle.workdir)
        disk_cap = max(float(self.limits.disk_mb), disk_start)
        next_disk = time.monotonic() + DISK_CHECK_S
        while True:
            await asyncio.sleep(interval)
            reason = _tree_violation(pid, self.limits)
            if reason is None and time.monotonic() >= next_disk and not self.gateway_url:
                next_disk = time.monotonic() + DISK_CHECK_S
                if workdirs.usage_mb(handle.workdir) > disk_cap:
                    reason = f"It wrote more than {self.limits.disk_mb} MB into your working directory and was stopped."
            if reason == "gone":
                return None
            if reason:
                self._killpg(handle)
                return reason

    async def _interrupt_until_idle(self, handle: KernelHandle, grace: float = 3.0) -> bool:
        """Interrupt (SIGINT) and wait for the kernel to report idle again; False if it does not."""
        with contextlib.suppress(Exception):
            await handle.manager.interrupt_kernel()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                msg = await handle.client.get_iopub_msg(timeout=max(0.05, deadline - time.monotonic()))
            except Exception:
                break
            if msg["header"]["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                # drain the shell reply of the interrupted request so it does not confuse the next run
                with contextlib.suppress(Exception):
                    await handle.client.get_shell_msg(timeout=0.5)
                return True
        return False

    async def arestart(self, session_id: str) -> str:
        handle = self.sessions.get(session_id)
        if handle is None:
            return "No kernel is running for this session yet."
        async with handle.lock:
            await self._restart(handle)
        return "Kernel restarted: variables and imports are cleared."

    async def ainterrupt(self, session_id: str) -> bool:
        handle = self.sessions.get(session_id)
        if handle is None:
            return False
        with contextlib.suppress(Exception):
            await handle.manager.interrupt_kernel()
        return True

    # ------------------------------------------------------------------ housekeeping

    async def _start_background(self) -> None:
        if not self.gateway_url:
            workdirs.sweep(self.root, self.workdir_keep_days)
        if not self.refusal:
            self._loop.create_task(self._fill_pool())
        self._culler = self._loop.create_task(self._cull_forever())
        self._idle_watch = self._loop.create_task(self._watch_idle_forever())

    async def _watch_idle_forever(self) -> None:
        """Between runs, processes a run left behind are held to the same limits."""
        while not self._closed:
            await asyncio.sleep(IDLE_WATCH_S)
            for handle in list(self.sessions.values()):
                if handle.lock.locked() or handle.violation or not handle.pid or self.gateway_url:
                    continue
                with contextlib.suppress(Exception):
                    reason = _tree_violation(handle.pid, self.limits)
                    if reason and reason != "gone":
                        self._killpg(handle)
                        handle.violation = reason

    async def cull_idle(self) -> int:
        now = time.monotonic()
        stale = [s for s, h in self.sessions.items() if now - h.last_used > self.idle_cull_s and not h.lock.locked()]
        for session_id in stale:
            await self._kill(self.sessions.pop(session_id))
        return len(stale)

    async def _cull_forever(self) -> None:
        while not self._closed:
            await asyncio.sleep(min(60.0, max(1.0, self.idle_cull_s / 4)))
            with contextlib.suppress(Exception):
                await self.cull_idle()
            with contextlib.suppress(Exception):
                if not self.gateway_url:
                    workdirs.sweep(self.root, self.workdir_keep_days, keep=self._live_workdirs())

    def _live_workdirs(self) -> set[Path]:
        return {h.workdir for h in [*self.sessions.values(), *self._pool]}

    async def _shutdown_all(self) -> None:
        self._culler.cancel()
        self._idle_watch.cancel()
        handles = list(self.sessions.values()) + self._pool
        self.sessions.clear()
        self._pool.clear()
        await asyncio.gather(*(self._kill(h) for h in handles), return_exceptions=True)


async def _maybe_await(value: Any) -> Any:
    """Local clients start channels synchronously, gateway clients asynchronously."""
    if asyncio.iscoroutine(value):
        return await value
    return value


def _join(a: str | None, b: str) -> str:
    return f"{a} {b}" if a else b


def _tree_violation(pid: int, limits: Limits) -> str | None:
    """Why the process tree under `pid` breaks a limit, "gone" when it has exited, else None.

    Processes and threads are counted as RLIMIT_NPROC counts them (the bwrap wrappers aside), so a
    tree that saturates its cap is stopped instead of left half-forked. Memory is the private resident
    memory (RSS less shared pages) summed over the tree, so forked children sharing their parent's
    libraries are not counted twice."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return "gone"
    tasks, total = 0, 0
    for proc in children:
        with contextlib.suppress(psutil.Error):
            if proc.name() == "bwrap":
                continue
            tasks += proc.num_threads()
            info = proc.memory_info()
            total += max(0, info.rss - info.shared)
    if tasks >= limits.max_procs:
        return f"It started more than {limits.max_procs} processes and was stopped."
    if total > limits.memory_mb * 1024 * 1024:
        return f"Its processes used more than {limits.memory_mb} MB of memory together and were stopped."
    return None
