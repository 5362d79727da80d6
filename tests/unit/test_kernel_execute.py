"""The execute loop against a scripted kernel client (no kernel process), and who owns the kernel service.

The loop must take an execution's status from the shell channel's execute_reply, not from iopub alone:
an aborted request looks exactly like one that ran and printed nothing there.
"""

from __future__ import annotations

import asyncio
from queue import Empty
from typing import Any

import pytest

from tests.conftest import fake_model
from tools.kernel import execute
from tools.kernel.execute import NO_REPLY, run_on_client
from tools.kernel.service import KernelService, NoKernelService
from tools.run_code import kernels_of
from tutor.agent.context import Context

MSG_ID = "req-1"


def iopub(kind: str, parent: str = MSG_ID, **content: Any) -> dict[str, Any]:
    return {"header": {"msg_type": kind}, "parent_header": {"msg_id": parent}, "content": content}


def reply(status: str, parent: str = MSG_ID, **content: Any) -> dict[str, Any]:
    return {
        "header": {"msg_type": "execute_reply"},
        "parent_header": {"msg_id": parent},
        "content": {"status": status, **content},
    }


class ScriptedClient:
    """Hands out the given iopub and shell messages in order, then raises Empty like jupyter_client."""

    def __init__(self, iopub_msgs: list[dict], shell_msgs: list[dict]) -> None:
        self.iopub, self.shell = list(iopub_msgs), list(shell_msgs)
        self.shell_reads = 0

    def execute(self, code: str, **kwargs: Any) -> str:
        return MSG_ID

    async def get_iopub_msg(self, timeout: float) -> dict:
        return await self._next(self.iopub, timeout)

    async def get_shell_msg(self, timeout: float) -> dict:
        self.shell_reads += 1
        return await self._next(self.shell, timeout)

    @staticmethod
    async def _next(queue: list[dict], timeout: float) -> dict:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(min(timeout, 0.01))
        raise Empty


async def alive() -> bool:
    return True


def run(client: ScriptedClient, timeout: float = 2.0):
    return asyncio.run(run_on_client(client, "code", timeout, alive, poll=0.01))


BUSY, IDLE = iopub("status", execution_state="busy"), iopub("status", execution_state="idle")


def test_an_ok_reply_gives_ok_and_the_execution_count():
    client = ScriptedClient([BUSY, iopub("stream", name="stdout", text="hi\n"), IDLE], [reply("ok", execution_count=7)])
    result, outcome = run(client)
    assert (outcome, result.status, result.stdout, result.execution_count) == ("done", "ok", "hi\n", 7)
    assert result.as_dict()["execution_count"] == 7


def test_an_error_reply_is_an_error_even_when_iopub_lost_the_traceback():
    error = reply("error", execution_count=3, ename="ZeroDivisionError", evalue="division by zero", traceback=["tb"])
    result, outcome = run(ScriptedClient([BUSY, IDLE], [error]))
    assert (outcome, result.status, result.execution_count) == ("done", "error", 3)
    assert result.error == {"ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": "tb"}


def test_an_aborted_request_is_an_error_not_an_empty_success():
    result, outcome = run(ScriptedClient([BUSY, IDLE], [reply("aborted")]))
    assert outcome == "done" and result.status == "error"
    assert result.error["ename"] == "ExecutionAborted" and "Run it again" in result.error["evalue"]


def test_replies_and_output_of_other_requests_are_skipped():
    stale = [iopub("stream", parent="old", name="stdout", text="old\n"), iopub("status", "old", execution_state="idle")]
    client = ScriptedClient([*stale, BUSY, IDLE], [reply("error", parent="old"), reply("ok", execution_count=2)])
    result, _ = run(client)
    assert (result.status, result.stdout, result.execution_count) == ("ok", "", 2)


def test_no_reply_by_the_deadline_is_a_timeout_with_a_clear_notice():
    result, outcome = run(ScriptedClient([BUSY, IDLE], []), timeout=0.3)
    assert outcome == "timeout" and result.notice == NO_REPLY


def test_a_reply_without_idle_ends_after_the_iopub_grace(monkeypatch):
    monkeypatch.setattr(execute, "IOPUB_GRACE_S", 0.05)
    client = ScriptedClient([BUSY, iopub("stream", name="stdout", text="part")], [reply("ok", execution_count=1)])
    result, outcome = run(client, timeout=5)
    assert outcome == "done" and result.status == "ok" and result.stdout == "part"
    assert "output may be missing" in result.notice and result.elapsed_s < 2


def test_a_session_owns_a_lazy_service_under_its_data_dir(session_factory, settings):
    session = session_factory(fake_model("unused"))
    kernels = session.kernels
    assert kernels.root == settings.data_dir / "kernels"
    assert kernels._loop is None  # nothing started until code runs
    assert session.context().kernels is kernels
    session.close()
    assert kernels._closed
    with pytest.raises(NoKernelService):
        kernels.run("ann", "1")


def test_without_a_kernel_service_running_code_fails_clearly(settings):
    from tutor.agent.commands import run_command

    context = Context(model=None, settings=settings, learners=None)
    with pytest.raises(NoKernelService, match="No kernel service"):
        kernels_of(context)
    reply, _ = run_command("/restart", "ann", learners=None, kernels=None)
    assert "not available" in reply


def test_from_settings_takes_the_settings_not_the_global_ones(settings):
    s = settings.model_copy(update={"kernel_memory_mb": 512, "kernel_timeout_s": 7, "max_kernels": 3})
    svc = KernelService.from_settings(s, pool_size=0, lazy=True)
    try:
        assert svc.root == s.data_dir / "kernels" and svc.pool_size == 0
        assert (svc.limits.memory_mb, svc.default_timeout, svc.max_kernels) == (512, 7, 3)
    finally:
        svc.shutdown()
