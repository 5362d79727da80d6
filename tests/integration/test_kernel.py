"""The kernel tool against real ipykernel processes: the acceptance lines of the kernel issue."""

from __future__ import annotations

import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools.kernel import KernelService
from tools.kernel.execute import MAX_TEXT
from tools.kernel.sandbox import HOME, Limits, kernel_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    os.environ["OPENAI_API_KEY"] = "sk-must-not-leak"
    os.environ["TUTOR_SECRET_THING"] = "nope"
    svc = KernelService(root=tmp_path_factory.mktemp("kernels"), pool_size=1, limits=Limits(max_procs=64))
    yield svc
    svc.shutdown()
    os.environ.pop("OPENAI_API_KEY")
    os.environ.pop("TUTOR_SECRET_THING")


def test_variables_persist_within_a_session(service):
    assert service.run("persist", "x = 41").status == "ok"
    r = service.run("persist", "print('x is', x)\nx + 1")
    assert (r.status, r.stdout, r.result) == ("ok", "x is 41\n", "42")


def test_infinite_loop_times_out_and_the_session_goes_on(service):
    service.run("loop", "kept = 'yes'")
    start = time.monotonic()
    r = service.run("loop", "while True: pass", timeout=2)
    assert r.status == "timeout" and time.monotonic() - start < 4
    after = service.run("loop", "print(kept)")
    assert after.status == "ok" and after.stdout == "yes\n"


def test_a_dying_kernel_is_replaced_and_the_learner_is_told(service):
    service.run("die", "y = 1")
    r = service.run("die", "import os; os._exit(1)")
    assert r.status == "died" and "variables" in r.notice
    after = service.run("die", "print(y)")
    assert after.status == "error" and after.error["ename"] == "NameError"
    assert service.run("die", "print('fresh')").stdout == "fresh\n"


def test_memory_hog_gets_memory_error_and_kernel_lives(service):
    r = service.run("mem", "x = bytearray(8*1024**3)")
    assert r.status == "error" and r.error["ename"] == "MemoryError"
    assert service.run("mem", "print('alive')").stdout == "alive\n"


def test_huge_output_is_truncated_and_server_memory_stays_flat(service):
    service.run("big", "print('warm')")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = service.run("big", "print('a'*10**7)")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert r.status == "ok" and len(r.stdout) == MAX_TEXT and "truncated" in r.notice
    assert (after - before) * 1024 < 200 * 1024**2  # ru_maxrss is in KiB; 10 MB of text must not pile up


def test_kernel_environment_has_no_secrets(service):
    r = service.run("env", "import os; print([k for k in os.environ if 'KEY' in k or k.startswith('TUTOR_')])")
    assert r.stdout == "[]\n"
    assert "OPENAI_API_KEY" not in kernel_env(service.root, dict(os.environ))


def test_kernel_runs_in_its_own_directory_over_ipc(service):
    r = service.run("dirs", "import os; print(os.getcwd()); open('mine.txt', 'w').write('x')")
    handle = service.sessions["dirs"]
    assert r.stdout.strip() == HOME  # the learner's directory, mounted at the sandbox's home
    assert (handle.workdir / "mine.txt").read_text() == "x"
    info = handle.manager.get_connection_info()
    assert info["transport"] == "ipc"


def test_matplotlib_plot_gives_one_png(service):
    r = service.run("plot", "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
    assert r.status == "ok" and len(r.images) == 1
    import base64

    assert base64.b64decode(r.images[0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_input_is_refused_clearly(service):
    r = service.run("stdin", "name = input('Your name? ')")
    assert r.status == "error" and "not supported" in r.error["evalue"]


def test_errors_have_no_ansi_codes(service):
    r = service.run("ansi", "1/0")
    assert r.error["ename"] == "ZeroDivisionError" and "\x1b[" not in r.error["traceback"]


def test_fork_bomb_is_stopped_and_the_server_survives(service):
    service.run("fork", "z = 3")
    r = service.run("fork", "import os\nwhile True:\n    os.fork()", timeout=20)
    assert r.status == "died" and "processes" in r.notice
    assert service.run("fork", "print('back')").stdout == "back\n"


def test_ten_concurrent_sessions_are_isolated(service):
    def job(i: int):
        return service.run(f"c{i}", f"secret = {i}\nimport time; time.sleep(0.3)\nprint(secret)")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(job, range(10)))
    assert [r.stdout.strip() for r in results] == [str(i) for i in range(10)]
    peek = service.run("c0", "print(sorted(k for k in globals() if k == 'secret'), secret)")
    assert peek.stdout.strip() == "['secret'] 0"
    assert service.run("newcomer", "print('secret' in globals())").stdout == "False\n"


def test_restart_clears_variables(service):
    service.run("rs", "v = 1")
    assert "restarted" in service.restart("rs")
    assert service.run("rs", "v").error["ename"] == "NameError"


def test_idle_kernels_are_culled(tmp_path):
    svc = KernelService(root=tmp_path, pool_size=0, idle_cull_s=60)
    try:
        svc.run("idle", "1")
        svc.sessions["idle"].last_used -= 120
        culled = svc.cull()
        assert culled == 1 and not svc.has_session("idle")
    finally:
        svc.shutdown()


def test_pool_makes_the_first_run_of_a_new_session_fast(service):
    deadline = time.monotonic() + 30
    while not service._pool and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service._pool, "the pool should hold a pre-warmed kernel"
    r = service.run("pooled-newcomer", "print(1)")
    assert r.status == "ok"


def test_the_kernel_cap_refuses_a_new_learner_and_keeps_serving_the_others(tmp_path):
    svc = KernelService(root=tmp_path, pool_size=0, idle_cull_s=600, max_kernels=1)
    try:
        assert svc.run("first", "x = 41").status == "ok"
        refused = svc.run("second", "print('hello')")
        assert refused.status == "error" and refused.error["ename"] == "TooManyKernels"
        assert "TUTOR_MAX_KERNELS" in refused.error["evalue"]
        assert svc.run("first", "print(x + 1)").stdout == "42\n"  # the learner who has a kernel keeps it
    finally:
        svc.shutdown()


def test_the_reply_decides_the_status_and_counts_executions(service):
    first = service.run("reply", "1/0")
    assert (first.status, first.error["ename"]) == ("error", "ZeroDivisionError") and first.execution_count
    for code, ename in (("raise SystemExit(3)", "SystemExit"), ("raise KeyboardInterrupt", "KeyboardInterrupt")):
        r = service.run("reply", code)
        assert (r.status, r.error["ename"]) == ("error", ename), r
    ok = service.run("reply", "print('still here')")
    assert (ok.status, ok.stdout, ok.execution_count) == ("ok", "still here\n", first.execution_count + 3)


def test_a_request_the_kernel_aborts_is_an_error_not_an_empty_success(service):
    from tools.kernel.execute import run_on_client

    service.run("abort", "kept = 1")
    handle = service.sessions["abort"]

    async def failing_then_queued():
        async with handle.lock:  # a second request queued behind a failing one, as a second client might
            handle.client.execute("import time; time.sleep(0.2); 1/0", stop_on_error=True)
            return await run_on_client(handle.client, "print('never')", 10, handle.manager.is_alive)

    result, outcome = service._call(failing_then_queued())
    assert outcome == "done" and result.status == "error" and not result.stdout
    assert result.error["ename"] == "ExecutionAborted"
    after = service.run("abort", "print(kept)")
    assert (after.status, after.stdout) == ("ok", "1\n")


def test_a_sessions_kernels_live_under_its_data_dir(session_factory, settings):
    from tests.conftest import fake_model
    from tools.kernel.workdirs import learner_dirname

    session = session_factory(fake_model("unused"), kernel_pool_size=0)
    result = session.run_turn("ann", "/run open('here.txt', 'w').write('mine')\nprint('wrote')")
    assert "wrote" in result["answer"] and result["error"] is None
    kernels = settings.data_dir / "kernels"
    assert session.kernels.root == kernels
    workdir = session.kernels.sessions["ann"].workdir
    assert workdir == kernels / "work" / learner_dirname("ann") and (workdir / "here.txt").read_text() == "mine"
    pid = session.kernels.sessions["ann"].pid
    session.close()
    assert not session.kernels.sessions and not _running(pid)  # closing the session stops its kernels
    assert (workdir / "here.txt").exists()  # the learner's files stay


def _running(pid: int | None) -> bool:
    import psutil

    try:
        return bool(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
