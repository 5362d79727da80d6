"""Learner code as an attacker writes it, against real bubblewrap-sandboxed kernels: every escape fails,
and the server and the other learners carry on unaffected."""

from __future__ import annotations

import ast
import os
import socket
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import tools
from tools.kernel import KernelService
from tools.kernel.sandbox import Limits, SandboxConfig, sandbox_problem
from tools.kernel.workdirs import RUNTIME_PREFIX

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sandbox_problem(SandboxConfig()) is not None, reason="no bubblewrap sandbox here"),
]
PLANTED = "sk-planted-" + os.urandom(8).hex()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    (data / "learners.sqlite").write_text("mastery of every learner")
    (data / "conversations.sqlite").write_text("every conversation")
    return data


@pytest.fixture(scope="module")
def service(data_dir):
    os.environ["TUTOR_PLANTED_SECRET"] = PLANTED
    svc = KernelService(root=data_dir / "kernels", pool_size=1, limits=Limits(memory_mb=1024, disk_mb=200))
    bystander = svc.run("bystander", "alive = 42\nopen('notes.txt', 'w').write('mine')")
    assert bystander.status == "ok", bystander
    yield svc
    svc.shutdown()
    os.environ.pop("TUTOR_PLANTED_SECRET")


def run(service: KernelService, session: str, code: str, timeout: float = 30):
    return service.run(session, textwrap.dedent(code), timeout)


def assert_unaffected(service: KernelService) -> None:
    """The other learner's kernel kept its variables and files; the server process is alive."""
    r = service.run("bystander", "print(alive, open('notes.txt').read())")
    assert (r.status, r.stdout) == ("ok", "42 mine\n"), r
    assert psutil.Process(os.getpid()).is_running()


def test_cannot_read_another_learners_files(service):
    other = service.sessions["bystander"].workdir
    r = run(
        service,
        "mallory",
        f"""
        import os
        found = []
        for path in [{str(other / "notes.txt")!r}, "../notes.txt", "/home/bystander/notes.txt"]:
            try:
                found.append(open(path).read())
            except OSError:
                pass
        print(found, os.listdir("/home"))
    """,
    )
    assert r.stdout == "[] ['learner']\n", r
    assert_unaffected(service)


def test_cannot_read_the_databases_by_absolute_path(service, data_dir):
    paths = [str(data_dir / "learners.sqlite"), str(data_dir / "conversations.sqlite")]
    r = run(
        service,
        "mallory",
        f"""
        import os
        hits = [p for p in {paths!r} if os.path.exists(p)]
        print(hits, os.path.exists({str(data_dir)!r}))
    """,
    )
    assert r.stdout == "[] False\n", r
    assert_unaffected(service)


def test_no_secret_in_any_proc_environ_and_only_own_processes(service):
    r = run(
        service,
        "mallory",
        f"""
        import os
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        leaks = []
        for pid in pids:
            for name in ("environ", "cmdline"):
                try:
                    if {PLANTED!r}.encode() in open(f"/proc/{{pid}}/{{name}}", "rb").read():
                        leaks.append((pid, name))
                except OSError:
                    pass
        print(leaks, len(pids) < 10, str({os.getpid()}) in pids and {os.getpid()} > 10)
    """,
    )
    assert r.stdout == "[] True False\n", r
    assert_unaffected(service)


def test_cannot_connect_to_a_loopback_port(service):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        r = run(
            service,
            "mallory",
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
                print("connected")
            except OSError as exc:
                print("refused", type(exc).__name__)
        """,
        )
        assert r.stdout.startswith("refused"), r
        with pytest.raises(TimeoutError):
            listener.accept()
    assert_unaffected(service)


def test_cannot_write_outside_the_working_dir(service, data_dir):
    project = Path(tools.__file__).resolve().parent
    site = Path(psutil.__file__).resolve().parent.parent
    targets = [str(project / "pwned.py"), str(site / "pwned.pth"), str(data_dir / "pwned"), "/usr/pwned", "/pwned"]
    r = run(
        service,
        "mallory",
        f"""
        written = []
        for path in {targets!r}:
            try:
                open(path, "w").write("x")
                written.append(path)
            except OSError:
                pass
        open("/tmp/private-tmp-only", "w").write("x")
        print(written)
    """,
    )
    assert r.stdout == "[]\n", r
    assert not any(Path(t).exists() for t in targets)
    assert not Path("/tmp/private-tmp-only").exists()  # its /tmp is its own
    assert_unaffected(service)


def test_cannot_signal_the_server(service):
    r = run(
        service,
        "mallory",
        f"""
        import os, signal
        try:
            os.kill({os.getpid()}, signal.SIGKILL)
            print("sent")
        except ProcessLookupError:
            print("no such process")
    """,
    )
    assert r.stdout == "no such process\n", r
    assert_unaffected(service)


def test_fork_bomb_is_capped_and_others_carry_on(service):
    r = run(service, "bomber", "import os\nwhile True:\n    os.fork()", timeout=20)
    assert r.status == "died" and "processes" in r.notice, r
    assert service.run("bomber", "print('back')").stdout == "back\n"
    assert_unaffected(service)


def test_disk_filling_stops_at_the_caps(service):
    r = run(
        service,
        "filler",
        """
        import errno
        def fill(folder, n, mb):
            written = 0
            try:
                for i in range(n):
                    with open(f"{folder}/f{i}", "wb") as f:
                        for _ in range(mb):
                            f.write(b"x" * 2**20)
                    written += mb
            except OSError as exc:
                return written, exc.errno == errno.ENOSPC
            return written, False
        print((fill("/tmp", 20, 50), fill("/dev/shm", 20, 50)))
    """,
    )
    (tmp_mb, tmp_full), (shm_mb, shm_full) = ast.literal_eval(r.stdout)
    assert tmp_full and tmp_mb <= 256 and shm_full and shm_mb <= 64, r
    r = run(service, "filler", "for i in range(20):\n    open(f'big{i}', 'wb').write(b'x' * 50 * 2**20)", timeout=60)
    assert r.status == "died" and "MB" in r.notice, r
    assert service.run("filler", "print('back')").stdout == "back\n"
    assert_unaffected(service)


def test_another_learners_connection_file_is_out_of_reach(service):
    victim = service.sessions["bystander"].runtime_dir
    r = run(
        service,
        "mallory",
        f"""
        import glob, os
        print(os.path.exists({str(victim / "kernel.json")!r}), glob.glob("/tmp/{RUNTIME_PREFIX}*"))
    """,
    )
    mine = service.sessions["mallory"].runtime_dir
    assert r.stdout == f"False ['{mine}']\n", r
    assert_unaffected(service)


def test_the_tutor_package_and_quiz_bank_cannot_be_imported(service):
    knowledge = Path(tools.__file__).resolve().parent.parent / "knowledge" / "quizzes"
    r = run(
        service,
        "mallory",
        f"""
        import os
        try:
            from tools.quiz.bank import load_bank
            print("imported")
        except ImportError:
            print("no tools")
        import tutor
        print(sorted(n for n in dir(tutor) if not n.startswith("__")), os.path.exists({str(knowledge)!r}))
    """,
    )
    assert r.stdout == "no tools\n[] False\n", r


def test_a_four_child_memory_attempt_is_capped(service):
    r = run(
        service,
        "hog",
        """
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                block = b"x" * (300 * 2**20)  # resident; each child stays under its own 1 GB RLIMIT_AS
                time.sleep(30)
                os._exit(0)
        time.sleep(20)
    """,
        timeout=25,
    )
    assert r.status == "died" and "memory" in r.notice, r
    assert service.run("hog", "print('back')").stdout == "back\n"
    assert_unaffected(service)


def test_seventy_detached_children_are_gone_after_a_restart(tmp_path):
    svc = KernelService(root=tmp_path, pool_size=0, limits=Limits(max_procs=100))
    try:
        r = run(
            svc,
            "setsid",
            """
            import os, subprocess
            for _ in range(70):
                subprocess.Popen(["sleep", "600"], start_new_session=True)
            print(len([p for p in os.listdir("/proc") if p.isdigit()]))
        """,
        )
        assert r.status == "ok" and int(r.stdout) >= 70, r
        sleepers = [
            p for p in psutil.Process(svc.sessions["setsid"].pid).children(recursive=True) if p.name() == "sleep"
        ]
        assert len(sleepers) == 70
        svc.restart("setsid")
        time.sleep(0.5)
        assert not [p for p in sleepers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert svc.run("setsid", "print('fresh')").stdout == "fresh\n"
    finally:
        svc.shutdown()


def test_working_dir_survives_a_cull_and_a_server_restart(tmp_path):
    svc = KernelService(root=tmp_path, pool_size=1, idle_cull_s=60)
    try:
        svc.run("keeper", "open('work.txt', 'w').write('kept')")
        svc.sessions["keeper"].last_used -= 120
        assert svc.cull() == 1
        assert svc.run("keeper", "print(open('work.txt').read())").stdout == "kept\n"
    finally:
        svc.shutdown()
    again = KernelService(root=tmp_path, pool_size=0)
    try:
        assert again.run("keeper", "print(open('work.txt').read())").stdout == "kept\n"
    finally:
        again.shutdown()


def test_stale_runtime_dirs_are_removed_at_start(tmp_path):
    stale = Path("/tmp") / f"{RUNTIME_PREFIX}999999999.1-deadbeef0000"
    stale.mkdir(exist_ok=True)
    svc = KernelService(root=tmp_path, pool_size=0)
    try:
        deadline = time.monotonic() + 10
        while stale.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not stale.exists()
    finally:
        svc.shutdown()


def test_isolation_is_reported(service):
    assert service.isolation == "bubblewrap sandbox (no network)"


def test_without_a_sandbox_learner_code_is_refused(tmp_path):
    svc = KernelService(root=tmp_path, pool_size=1, sandbox=SandboxConfig(bwrap=str(tmp_path / "no-bwrap")))
    try:
        r = svc.run("x", "print('should not run')")
        assert r.status == "error" and r.error["ename"] == "SandboxUnavailable" and not r.stdout
        assert "TUTOR_KERNEL_SANDBOX=off" in r.error["evalue"] and svc.isolation.startswith("none")
        assert not svc._pool
    finally:
        svc.shutdown()
