"""How learner code is launched: a bubblewrap sandbox, a minimal environment and resource limits.

Learner code is hostile. Each kernel (and each grading process) runs in its own bwrap sandbox: new
mount, PID, IPC, UTS and network namespaces; read-only system and Python paths with the tutor's own
package masked; one writable working directory mounted at /home/learner; private size-capped /tmp and
/dev/shm; an unprivileged uid without capabilities inside a user namespace of its own.

The layout is two nested bwraps. The outer one builds the mounts (as root it can read the interpreter
under a 0700 home that an unprivileged uid could not even traverse); the inner one, started as the
unprivileged uid, adds the user namespace. That namespace is per kernel, and since Linux 5.14
RLIMIT_NPROC is counted per user namespace, so the process cap set inside binds each kernel tree on
its own, also for a root-started server (root itself is never subject to RLIMIT_NPROC).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Passed through from the server's environment when present; everything else is dropped.
ENV_ALLOWLIST = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MPL_INLINE = "module://matplotlib_inline.backend_inline"
HOME = "/home/learner"  # the working directory inside the sandbox
INNER_UID = 1000  # the learner's uid inside its user namespace
PROJECT_DIST = "llm-tutor"
# Read-only from the host: what the dynamic loader, Python and its libraries need, nothing personal.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "nsswitch.conf", "fonts")
ETC_NETWORK = ("resolv.conf", "hosts", "ssl", "ca-certificates", "gai.conf")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048  # RLIMIT_AS per process, and the watchdog's bound on the whole tree
    cpu_s: int = 300  # RLIMIT_CPU, per process
    max_procs: int = 64  # RLIMIT_NPROC inside the sandbox, and the watchdog's process-tree bound
    file_mb: int = 100  # RLIMIT_FSIZE
    max_open_files: int = 256  # RLIMIT_NOFILE
    disk_mb: int = 500  # the working directory may not grow beyond this during a run (watchdog)


@dataclass(frozen=True)
class SandboxConfig:
    enabled: bool = True  # False only when TUTOR_KERNEL_SANDBOX=off is set explicitly
    network: bool = False  # outbound network (also the host's loopback services)
    uid: int = 60999  # the host uid kernels run as when the server is root
    tmp_mb: int = 256  # size of the private /tmp
    shm_mb: int = 64  # size of the private /dev/shm
    bwrap: str = "bwrap"  # the executable (a path in tests)

    @classmethod
    def from_settings(cls, settings: object | None = None) -> SandboxConfig:
        if settings is None:
            from tutor.config import get_settings

            settings = get_settings()
        s = settings
        return cls(
            enabled=s.kernel_sandbox != "off",
            network=s.kernel_network,
            uid=s.kernel_uid,
            tmp_mb=s.kernel_tmp_mb,
            shm_mb=s.kernel_shm_mb,
        )

    def describe(self) -> str:
        if not self.enabled:
            return "no sandbox (TUTOR_KERNEL_SANDBOX=off)"
        return f"bubblewrap sandbox ({'network allowed' if self.network else 'no network'})"


def kernel_env(workdir: Path | str, source: dict[str, str] | None = None, tmpdir: str | None = None) -> dict[str, str]:
    """A minimal environment: no API keys, nothing TUTOR_*, HOME and caches inside the workdir."""
    source = dict(os.environ) if source is None else source
    env = {k: source[k] for k in ENV_ALLOWLIST if k in source}
    bin_dir = str(Path(sandbox_python()).parent)
    env.update(
        {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "USER": "learner",
            "LOGNAME": "learner",
            "TMPDIR": tmpdir or str(Path(workdir) / ".tmp"),
            "MPLCONFIGDIR": str(Path(workdir) / ".config" / "matplotlib"),
            "IPYTHONDIR": str(Path(workdir) / ".ipython"),
            "MPLBACKEND": MPL_INLINE,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            # one BLAS/OpenMP thread per kernel: fair sharing between learners on a small machine
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
        }
    )
    return env


def sandbox_python() -> str:
    """The interpreter as seen inside the sandbox (the venv is mounted at its real path)."""
    return os.path.join(os.path.realpath(sys.prefix), "bin", "python")


def prepare_workdir(workdir: Path, owner: int | None = None) -> None:
    """The writable home of a kernel; owned by the sandbox uid so the learner can write there."""
    for sub in ("", ".tmp", ".config", ".config/matplotlib", ".ipython"):
        path = workdir / sub
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if owner is not None:
            os.chown(path, owner, owner)


def host_uid(config: SandboxConfig) -> int | None:
    """The uid the sandbox runs as on the host: the configured one for a root server, else unchanged."""
    return config.uid if config.enabled and os.geteuid() == 0 else None


def rlimit_prefix(limits: Limits, nproc: int | None = None) -> list[str]:
    """`prlimit` in front of a command: per-process limits without a preexec_fn (unsafe with threads)."""
    mb = 1024 * 1024
    args = [
        _which("prlimit"),
        f"--as={limits.memory_mb * mb}",
        f"--cpu={limits.cpu_s}",
        f"--fsize={limits.file_mb * mb}",
        f"--nofile={limits.max_open_files}",
        "--core=0",
    ]
    if nproc is not None:
        args.append(f"--nproc={nproc}")
    return [*args, "--"]


def user_process_count() -> int:
    """Processes and threads of this user: RLIMIT_NPROC counts them all, not only the kernel's."""
    import psutil

    uid = os.getuid()
    total = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                total += proc.info["num_threads"] or 1
        except (psutil.Error, TypeError):
            continue
    return total


# ---------------------------------------------------------------- the bwrap command line


def _which(name: str) -> str:
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/bin:/bin:/usr/sbin:/sbin")
    if not found:
        raise FileNotFoundError(name)
    return found


def _parents(path: str) -> list[str]:
    """Ancestors of `path` below /, outermost first: created 0755 in the sandbox so the uid can traverse."""
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


@functools.lru_cache(maxsize=1)
def python_mounts() -> tuple[str, ...]:
    """bwrap arguments for the Python environment: the venv and its base interpreter read-only, with the
    tutor's own packages (and the editable-install path hooks that point at the project) masked."""
    prefix = os.path.realpath(sys.prefix)
    base = os.path.realpath(sys.base_prefix)
    args: list[str] = []
    made: set[str] = {"/usr", "/etc", "/tmp", "/home", "/proc", "/dev"}
    for root in dict.fromkeys([base, prefix]):
        for parent in _parents(root + "/x"):
            if parent not in made and not parent.startswith(("/usr/", "/etc/")):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", root, root]
    if base != prefix:  # a venv: the base interpreter's own site-packages are not on its path
        base_site = Path(base) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        if base_site.is_dir():
            args += ["--tmpfs", str(base_site)]
    for path in sorted(_project_paths()):
        args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    return tuple(args)


def _project_paths() -> set[str]:
    """Top-level files and packages the tutor's distribution installed into site-packages."""
    from importlib import metadata

    try:
        dist = metadata.distribution(PROJECT_DIST)
    except metadata.PackageNotFoundError:
        return set()
    site = Path(str(dist.locate_file("")))
    found: set[str] = set()
    for f in dist.files or []:
        first = f.parts[0]
        if first == ".." or first.endswith((".dist-info", "__pycache__")):
            continue
        path = os.path.realpath(site / first)
        if path.startswith(os.path.realpath(site)) and os.path.exists(path):
            found.add(path)
    return found


def sandbox_argv(
    config: SandboxConfig,
    limits: Limits,
    workdir: Path,
    command: list[str],
    env: dict[str, str],
    binds: list[tuple[str, str]] | None = None,
) -> list[str]:
    """The full command line: rlimits, the outer bwrap (mounts and namespaces), the drop to the sandbox
    uid, the inner bwrap (user namespace) and the process cap, then `command`."""
    root = os.geteuid() == 0
    outer = [_which(config.bwrap), "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"]
    outer += ["--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if not root:
        outer.append("--unshare-user")
    if not config.network:
        outer.append("--unshare-net")
    outer.append("--clearenv")
    for key, value in env.items():
        outer += ["--setenv", key, value]
    for name in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            outer += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            outer += ["--ro-bind", str(host), f"/{name}"]
    outer += ["--ro-bind", "/usr", "/usr"]
    for name in ETC_FILES + (ETC_NETWORK if config.network else ()):
        outer += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    passwd, group = _identity_files()
    outer += ["--ro-bind", passwd, "/etc/passwd", "--ro-bind", group, "/etc/group"]
    outer += ["--proc", "/proc", "--dev", "/dev"]
    outer += ["--size", str(config.tmp_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp"]
    outer += ["--size", str(config.shm_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/dev/shm"]
    outer += list(python_mounts())
    outer += ["--perms", "0755", "--dir", "/home", "--bind", str(workdir), HOME]
    for src, dest in binds or []:
        outer += ["--bind", src, dest]
    outer += ["--remount-ro", "/", "--chdir", HOME, "--"]
    drop: list[str] = []
    if root:
        uid = str(config.uid)
        drop = [_which("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        drop += ["--inh-caps=-all", "--bounding-set=-all", "--"]
    inner = [_which(config.bwrap), "--unshare-user", "--uid", str(INNER_UID), "--gid", str(INNER_UID)]
    inner += ["--disable-userns", "--die-with-parent", "--cap-drop", "ALL", "--dev-bind", "/", "/", "--chdir", HOME]
    inner += ["--"]
    nproc = [_which("prlimit"), f"--nproc={limits.max_procs}", "--"]
    return rlimit_prefix(limits) + outer + drop + inner + nproc + list(command)


@functools.lru_cache(maxsize=1)
def _identity_files() -> tuple[str, str]:
    """/etc/passwd and /etc/group for inside: only the learner and root, none of the host's accounts."""
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"tutor-sandbox-etc-{os.getuid()}"
    folder.mkdir(mode=0o755, exist_ok=True)
    passwd, group = folder / "passwd", folder / "group"
    passwd.write_text(f"root:x:0:0:root:/root:/bin/sh\nlearner:x:{INNER_UID}:{INNER_UID}:learner:{HOME}:/bin/sh\n")
    group.write_text(f"root:x:0:\nlearner:x:{INNER_UID}:\n")
    for path in (folder, passwd, group):
        os.chmod(path, 0o755 if path == folder else 0o644)
    return str(passwd), str(group)


@functools.lru_cache(maxsize=4)
def sandbox_problem(config: SandboxConfig) -> str | None:
    """Why the sandbox cannot be created here (one line), or None when it works; checked once."""
    if not config.enabled:
        return None
    if not sys.platform.startswith("linux"):
        return f"the bubblewrap sandbox needs Linux (this is {sys.platform})"
    for tool in (config.bwrap, "prlimit") + (("setpriv",) if os.geteuid() == 0 else ()):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/bin:/bin"):
            return f"{tool} is not installed (Debian: apt-get install bubblewrap util-linux)"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tutor-probe-") as tmp:
        owner = host_uid(config)
        if owner is not None:
            os.chown(tmp, owner, owner)
        argv = sandbox_argv(config, Limits(), Path(tmp), [sandbox_python(), "-I", "-S", "-c", "print('ok')"], {})
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the bubblewrap sandbox cannot start ({exc})"
        if done.returncode != 0 or done.stdout.strip() != "ok":
            why = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"the bubblewrap sandbox cannot start here ({why}); user namespaces may be disabled"
    return None
