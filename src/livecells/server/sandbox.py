"""A sandbox per public kernel: bubblewrap (``bwrap``) namespaces, and a cgroup for its process
tree where one can be made.

:class:`SandboxProvisioner` is a jupyter_client kernel provisioner (a ``LocalProvisioner``
whose launch is wrapped), set on :class:`livecells.server.public.LimitedKernelManager` when
``livecells serve --public`` runs with a sandbox. Each kernel gets:

- its own user, PID, IPC, UTS and mount namespaces (and network namespace with
  ``--kernel-network none``): it sees no other process, and when its first process ends the
  kernel ends every process left in the namespace, ``setsid`` children included;
- the system read-only; the served folder read-only; a private, size-bounded home and ``/tmp``;
  of the server's runtime folder only a folder of its own, holding its connection file (deleted
  once read) and its ipc sockets (unix sockets on a path work across network namespaces, so
  ``--kernel-network none`` still reaches the server); the Jupyter config folder hidden;
- a cgroup (v2, or v1's ``memory`` and ``pids`` controllers) when the server may make one: the
  memory limit then holds for the whole process tree and ``pids.max`` stops fork bombs. Without
  one, rlimits apply per process and ``RLIMIT_NPROC`` counts the sandbox's own user namespace
  (not enforced when the server runs as root: say so, see :func:`describe`).

The server's signals still work: jupyter_client signals the kernel's process group; bwrap is
started with SIGINT ignored (a signal it would die of, taking the kernel with it) and the limits
script inside restores it for the kernel, so an interrupt reaches the kernel alone.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from jupyter_core.paths import jupyter_config_dir, jupyter_runtime_dir

from livecells.errors import ConfigError
from livecells.provisioners.image import SANDBOX_FAILED
from livecells.provisioners.kernelimage import ImageUnavailable, KernelImageProvisioner, log

__all__ = [
    "BWRAP",
    "Cgroup",
    "SandboxImageProvisioner",
    "SandboxProvisioner",
    "check_bwrap",
    "describe",
    "kernel_address_space",
    "probe",
]

BWRAP = os.environ.get("LIVECELLS_BWRAP", "/usr/bin/bwrap")
SANDBOX_UID = 65534
"""The user inside (``nobody``): not the server's, whatever the server runs as."""
_NAMESPACES = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
_SECRET_ENV = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "API_KEY")
# `trap "" INT`: bwrap dies of SIGINT (the kernel's interrupt, sent to its process group);
# then the cgroup files given before `--`, each joined by this shell before it execs bwrap.
_LAUNCHER = (
    'trap "" INT; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; '
    'shift; exec "$@"'
)


def probe() -> str | None:
    """``None`` when bwrap runs a sandbox here (tried for real, with the namespaces kernels
    get); else one line saying why not."""
    if not os.access(BWRAP, os.X_OK):
        return f"{BWRAP} not found"
    command = [BWRAP, *_NAMESPACES, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    try:
        done = subprocess.run([*command, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{BWRAP} cannot run: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"{BWRAP} cannot make a sandbox here ({last})"
    return None


@dataclass(frozen=True)
class Cgroup:
    """Where kernels' cgroups are made: a v2 folder with ``memory`` and ``pids`` delegated, or
    v1's ``memory`` and ``pids`` folders of this process."""

    version: int
    parents: tuple[Path, ...]

    @staticmethod
    @functools.cache
    def find() -> Cgroup | None:
        """The cgroup this server may make kernels' cgroups under (tried: one made and
        removed), or ``None``."""
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        own = {}
        for line in lines:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") or [""]:
                own[controller] = path.lstrip("/")
        base = Path("/sys/fs/cgroup")
        candidates = []
        if "" in own:
            v2 = base / own[""]
            with contextlib.suppress(OSError):
                if {"memory", "pids"} <= set((v2 / "cgroup.subtree_control").read_text().split()):
                    candidates.append(Cgroup(2, (v2,)))
        if "memory" in own and "pids" in own:
            v1 = (base / "memory" / own["memory"], base / "pids" / own["pids"])
            candidates.append(Cgroup(1, v1))
        for candidate in candidates:
            try:
                made = candidate.make(f"livecells-probe-{os.getpid()}", memory=0, processes=0)
            except OSError:
                continue
            for folder in made:
                folder.rmdir()
            return candidate
        return None

    def make(self, name: str, *, memory: int, processes: int) -> list[Path]:
        """Make the cgroup ``name`` with its limits (bytes, tasks; 0: none); its folders."""
        folders = [parent / name for parent in self.parents]
        for folder in folders:
            folder.mkdir(exist_ok=True)
        if self.version == 2:
            if memory:
                (folders[0] / "memory.max").write_text(str(memory))
                with contextlib.suppress(OSError):  # absent without swap accounting
                    (folders[0] / "memory.swap.max").write_text("0")
            if processes:
                (folders[0] / "pids.max").write_text(str(processes))
        else:
            if memory:
                (folders[0] / "memory.limit_in_bytes").write_text(str(memory))
            if processes:
                (folders[1] / "pids.max").write_text(str(processes))
        return folders

    def peak(self, folders: list[Path]) -> int:
        """The most memory the cgroup's processes held together, in bytes."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        return int((folders[0] / name).read_text())

    async def remove(self, folders: list[Path]) -> None:
        """Kill what is left in the cgroup and remove it."""
        for folder in folders:
            with contextlib.suppress(OSError):
                for pid in (folder / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), signal.SIGKILL)
        for folder in folders:
            for _ in range(100):  # the killed leave the cgroup as they are reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    await asyncio.sleep(0.02)


def describe(*, network: bool) -> str:
    """The start-up line's account of what the sandbox holds."""
    cgroup = Cgroup.find()
    if cgroup is not None:
        tree = f"cgroup v{cgroup.version} (memory and process count of the whole process tree)"
    elif os.geteuid() == 0:
        tree = (
            "rlimits per process only (no writable cgroup, and as root RLIMIT_NPROC does not "
            "apply): a kernel's children are not charged together"
        )
    else:
        tree = "rlimits per process and RLIMIT_NPROC (no writable cgroup)"
    net = "network on" if network else "no network"
    return (
        f"kernels sandboxed by bubblewrap: own user, PID, IPC, UTS and mount namespaces, "
        f"system and folder read-only, {net}; limits: {tree}"
    )


HIDDEN_FOLDERS = (
    "/home",
    "/root",
    "/tmp",
    "/var/tmp",
    "/var/lib",
    "/var/log",
    "/var/backups",
    "/var/mail",
    "/var/spool",
    "/run/user",
    "/run/secrets",
    "/etc/ssh",
    "/mnt",
    "/media",
)
"""Folders each kernel sees empty (a tmpfs of its own), besides the server's home, temporary,
runtime and Jupyter config folders: the system's private data. The kernel's own Python, its
program and the served folder come back read-only where they lie inside one."""
HIDDEN_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers")


def _hidden_folders(runtime_dir: str) -> list[str]:
    """Folders of the server the sandbox replaces by empty ones (each kernel gets its own),
    real paths, shortest first; those inside others too (a folder bound back may hold one)."""
    folders = [*HIDDEN_FOLDERS, os.path.expanduser("~"), tempfile.gettempdir()]
    folders += [runtime_dir, jupyter_config_dir()]
    found = {os.path.realpath(folder) for folder in folders if os.path.isdir(folder)}
    return sorted(found - {"/"}, key=len)


def _outermost(paths: Iterable[str]) -> list[str]:
    """The real paths, without those inside another one (or ``/``), shortest first."""
    kept: list[str] = []
    for path in sorted({os.path.realpath(path) for path in paths}, key=len):
        if path != "/" and not _under(path, kept):
            kept.append(path)
    return kept


def _under(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder + os.sep) for folder in folders)


def _secret(name: str) -> bool:
    return any(part in name.upper() for part in _SECRET_ENV)


@dataclass(frozen=True)
class Settings:
    """What a sandbox is made of, but the folder it holds the kernel's connection in: equal
    settings, equal sandboxes (a template is shared by the kernels of equal settings)."""

    runtime_dir: str
    network: bool
    size: int
    """Bytes each tmpfs (home, /tmp, hidden folders) may hold."""
    needed: tuple[str, ...]
    """What comes back read-only from the hidden folders."""
    unset: tuple[str, ...]
    """The environment variables taken out (those named like secrets)."""


def bwrap_command(settings: Settings, folder: str, *, template: bool = False) -> list[str]:
    """bwrap and its options, up to ``--chdir``: a kernel's sandbox holding ``folder`` (its
    connection file and sockets) writable. A ``template`` (:class:`SandboxImageProvisioner`)
    holds ``folder`` with every kernel's folder in it, and keeps the capabilities of its user
    namespace for the kernels it forks to make sandboxes of their own with."""
    every_hidden = _hidden_folders(settings.runtime_dir)
    hidden = _outermost(every_hidden)
    args = [BWRAP, *_NAMESPACES, "--die-with-parent", "--hostname", "livecells"]
    args += [] if settings.network else ["--unshare-net"]
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    if template:
        # Each kernel mounts a /proc for its own PID namespace, which Linux allows only where a
        # /proc with nothing locked over it is in sight: bwrap's --proc has /proc/sys and others
        # bound over, and as root (bwrap's privileged mode) those binds are locked. The host's
        # /proc then, seen by the template alone: each kernel's own hides it, and no kernel
        # keeps the capability that would unmount that.
        proc = ["--dev-bind", "/proc", "/proc"] if os.geteuid() == 0 else ["--proc", "/proc"]
        args += ["--cap-add", "ALL", "--ro-bind", "/", "/", *proc, "--dev", "/dev"]
    else:
        args += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    home = os.path.expanduser("~")
    size = str(settings.size)
    for hide in [*hidden, home]:  # the home folder: writable, inside a hidden one
        args += ["--size", size, "--tmpfs", hide]
    for file in HIDDEN_FILES:
        if os.path.exists(file):
            args += ["--ro-bind", "/dev/null", file]
    needed = _outermost(p for p in settings.needed if os.path.exists(p))
    bound = [p for p in needed if _under(p, hidden)]
    for path in bound:
        args += ["--ro-bind", path, path]
    mounted = list(hidden)
    for hide in every_hidden:  # hidden again where a folder bound back holds it
        if any(_under(hide, [path]) and hide != path for path in bound):
            args += ["--size", size, "--tmpfs", hide]
            mounted.append(hide)
    args += ["--bind", folder, folder]
    # Only the home folder and /tmp are writable: each tmpfs is RAM (charged to the cgroup,
    # when there is one; otherwise it is the size bound alone that holds).
    writable = {os.path.realpath(home), "/tmp"}
    for hide in mounted:
        if hide not in writable:
            args += ["--remount-ro", hide]
    args += ["--setenv", "HOME", home, "--setenv", "TMPDIR", "/tmp"]
    for name in settings.unset:
        args += ["--unsetenv", name]
    # Its parent is the namespace's init (pid 1), which ipykernel's parent poller takes for
    # "the server is gone"; --die-with-parent does that job.
    return [*args, "--unsetenv", "JPY_PARENT_PID"]


class SandboxProvisioner(LocalProvisioner):
    """A local kernel started under bubblewrap (see the module's docstring); its manager is
    a :class:`~livecells.server.public.LimitedKernelManager`, which holds the settings."""

    folder: str | None = None
    cgroup_folders: list[Path] | None = None
    _settings: Settings
    """This kernel's sandbox (set by each launch's command)."""
    _chdir: str
    """The kernel's working folder in it."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km: Any = self.parent  # a LimitedKernelManager
        runtime_dir = os.path.dirname(km.connection_file) or jupyter_runtime_dir()
        if self.folder is None:
            # A short folder of its own for the connection file and the ipc sockets: the only
            # part of the runtime folder the kernel sees (and sun_path holds ~100 bytes).
            self.runtime_dir = runtime_dir
            base = runtime_dir if len(runtime_dir) < 60 else tempfile.gettempdir()
            self.folder = tempfile.mkdtemp(prefix="lc-", dir=self._folders(base))
            km.connection_file = os.path.join(self.folder, "kernel.json")
            km.transport = "ipc"
            km.ip = os.path.join(self.folder, "k")
        kwargs = await super().pre_launch(**kwargs)
        kwargs["cmd"] = self._command(kwargs["cmd"], kwargs.get("cwd"), kwargs.get("env"))
        kwargs["cwd"] = self.folder  # bwrap's own; the kernel's is --chdir
        return kwargs

    def _folders(self, base: str) -> str:
        """Where this kernel's folder is made."""
        return base

    def _command(self, cmd: list[str], cwd: str | None, env: dict[str, str] | None) -> list[str]:
        km: Any = self.parent  # a LimitedKernelManager
        assert self.folder is not None
        root = os.path.realpath(getattr(km.parent, "root_dir", None) or cwd or os.getcwd())
        self._settings = self.settings(cmd, cwd, env)
        self._chdir = os.path.realpath(cwd) if cwd else root
        args = bwrap_command(self._settings, self.folder)
        args += ["--chdir", self._chdir, "--"]
        cgroup = Cgroup.find()
        joins: list[str] = []
        if cgroup is not None:
            name = f"livecells-{self.kernel_id}"
            memory = km.memory_limit * 1024 * 1024
            self.cgroup_folders = cgroup.make(name, memory=memory, processes=km.process_limit)
            joins = [str(folder / "cgroup.procs") for folder in self.cgroup_folders]
        return ["/bin/sh", "-c", _LAUNCHER, "sh", *joins, "--", *args, *cmd]

    def settings(self, cmd: list[str], cwd: str | None, env: dict[str, str] | None) -> Settings:
        """What this kernel's sandbox is made of (the kernel ``cmd`` runs in it, in ``cwd``)."""
        km: Any = self.parent  # a LimitedKernelManager
        root = os.path.realpath(getattr(km.parent, "root_dir", None) or cwd or os.getcwd())
        # What the kernel needs from the hidden folders comes back, read-only: its Python (a
        # pyenv or venv in the home folder), the paths Python imports from, its program.
        needed = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(cmd[0]))}
        needed.add(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))  # livecells
        python_path = (env or os.environ).get("PYTHONPATH", "")
        needed.update(os.path.realpath(p) for p in python_path.split(os.pathsep) if p)
        needed.add(root)
        secret = [name for name in env or os.environ if _secret(name)]
        return Settings(
            runtime_dir=self.runtime_dir,
            network=bool(km.kernel_network),
            size=km.memory_limit * 1024 * 1024 or 512 * 1024 * 1024,
            needed=tuple(sorted(needed)),
            unset=tuple(sorted(secret)),
        )

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        cgroup = Cgroup.find()
        if cgroup is not None and self.cgroup_folders:
            await cgroup.remove(self.cgroup_folders)
            self.cgroup_folders = None
        if not restart and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


_TEMPLATE_FOLDERS: dict[str, str] = {}
_FAILED_TEMPLATES: set[Settings] = set()


def _template_folder(base: str) -> str:
    """The folder of kernels' folders in ``base``, one per server: each template holds it
    writable, and each kernel forked there sees its own folder in it only."""
    if base not in _TEMPLATE_FOLDERS:
        folder = tempfile.mkdtemp(prefix="lc-", dir=base)
        os.chmod(folder, 0o755)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMPLATE_FOLDERS[base] = folder
    return _TEMPLATE_FOLDERS[base]


class SandboxImageProvisioner(KernelImageProvisioner, SandboxProvisioner):
    """A sandboxed kernel forked from a kernel image that runs in a sandbox itself: the
    *template* (``livecells serve --public``, issue: kernels that start in a tenth of the time).

    The template is bwrap's sandbox as a kernel gets it (:func:`bwrap_command`), one per set of
    :class:`Settings`, holding the folder of every kernel's folder and the capabilities of its
    user namespace. Each kernel it forks makes a sandbox of its own before any of its code runs
    (:func:`livecells.provisioners.image.enter_sandbox`): new mount, PID, IPC and UTS
    namespaces (network too with ``--kernel-network none``), its own home, ``/tmp``,
    ``/dev/shm``, ``/proc`` and connection folder, then no capability at all. Its cgroup is
    joined before that (the manager opens the kernel's *gate* once it has moved it there), so
    its whole process tree is charged as a cold sandbox's is. What the kernels share is the
    template's user namespace (its uid, with no capability) and the image's memory pages,
    read-only (copy on write), hash seed and address layout.

    Kernels start cold, as :class:`SandboxProvisioner` starts them, where this cannot hold:
    without a cgroup when the server is not root (RLIMIT_NPROC then has to count each kernel in
    a user namespace of its own), or when the kernel is not the server's python3 ipykernel.
    """

    _gate: int | None = None
    _plain: tuple[list[str], dict[str, str] | None] | None = None

    def _folders(self, base: str) -> str:
        return _template_folder(base)

    def _command(self, cmd: list[str], cwd: str | None, env: dict[str, str] | None) -> list[str]:
        self._plain = (cmd, env)
        return super()._command(cmd, cwd, env)

    def forking(self, cmd: list[str], kwargs: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        assert self._plain is not None
        limited, env = self._plain
        # The limits script's own arguments (public.LimitedKernelManager) end at "--": the
        # image sets those limits itself (see prepare).
        kernel = limited[limited.index("--") + 1 :] if "--" in limited else limited
        given = env or os.environ
        kernel_env = {k: v for k, v in given.items() if k not in self._settings.unset}
        kernel_env.update(HOME=os.path.expanduser("~"), TMPDIR="/tmp")
        return kernel, {**kwargs, "cwd": self._chdir, "env": kernel_env}

    def not_forked(self) -> str | None:
        if Cgroup.find() is None and os.geteuid() != 0:
            return "no cgroup to charge each sandboxed kernel's processes to"
        if self._settings in _FAILED_TEMPLATES:
            return "kernels could not make their sandboxes in this template (see above)"
        return None

    def image_command(self) -> list[str]:
        assert self.folder is not None
        folder = os.path.dirname(self.folder)
        return [*bwrap_command(self._settings, folder, template=True), "--chdir", "/", "--"]

    def prepare(self, request: dict[str, Any], fds: list[int], opened: list[int]) -> None:
        km: Any = self.parent  # a LimitedKernelManager
        assert self.folder is not None
        # As the limits script sets them for a cold kernel; no RLIMIT_NPROC: every kernel of a
        # template is one user of one namespace, so the cgroup's pids.max counts instead.
        request["rlimits"].pop("RLIMIT_NPROC", None)
        memory = km.memory_limit * 1024 * 1024
        if memory:
            request["rlimits"]["RLIMIT_AS"] = (memory, memory)
        if km.cpu_limit:
            request["rlimits"]["RLIMIT_CPU"] = (km.cpu_limit, km.cpu_limit + 5)
        request["env"].pop("JPY_PARENT_PID", None)  # see bwrap_command
        if self._gate is not None:  # a fork that did not happen
            os.close(self._gate)
        request["sandbox"] = {
            "folder": self.folder,
            "home": os.path.expanduser("~"),
            "size": self._settings.size,
            "network": self._settings.network,
        }
        gate, self._gate = os.pipe()
        opened.append(gate)
        fds.append(gate)

    def started(self) -> None:
        assert self._pidfd is not None and self._gate is not None
        gate, self._gate = self._gate, None
        try:
            host = _pid_of(self._pidfd)
            self.pid = self.pgid = host
            for folder in self.cgroup_folders or []:
                (folder / "cgroup.procs").write_text(str(host))
            os.write(gate, b"1")
        except OSError as exc:
            raise ImageUnavailable(f"the forked kernel could not be charged: {exc}") from None
        finally:
            os.close(gate)
        assert self._done is not None
        settings = self._settings

        def ended(done: asyncio.Future[int]) -> None:
            # A kernel that could not make its sandbox here (a kernel of this system refusing
            # a mount, say): the next kernels of these settings start cold, and work.
            if not done.cancelled() and done.result() == SANDBOX_FAILED:
                if settings not in _FAILED_TEMPLATES:
                    log.warning(
                        "kernel image: a kernel could not make its sandbox in the template "
                        "(its line is above): sandboxed kernels start cold from now on"
                    )
                _FAILED_TEMPLATES.add(settings)

        self._done.add_done_callback(ended)

    async def cleanup(self, restart: bool = False) -> None:
        if self._gate is not None:
            os.close(self._gate)
            self._gate = None
        await super().cleanup(restart=restart)


def _pid_of(pidfd: int) -> int:
    """The process id a pidfd stands for, in this process's PID namespace (the image's
    children are numbered in the template's)."""
    with open(f"/proc/self/fdinfo/{pidfd}") as info:
        for line in info:
            if line.startswith("Pid:"):
                pid = int(line.split()[1])
                if pid > 0:
                    return pid
    raise ImageUnavailable(f"the forked kernel's pidfd {pidfd} names no live process")


def check_bwrap(sandbox: str) -> bool:
    """Whether kernels get bwrap, for ``--sandbox`` ``auto``, ``bwrap`` or ``none``; raises
    ConfigError when ``bwrap`` is asked for (or ``auto`` finds none) and it does not work."""
    if sandbox == "none":
        return False
    problem = probe()
    if problem is None:
        return True
    raise ConfigError(
        f"--public needs a sandbox for visitors' kernels and {problem}: install bubblewrap "
        "(apt-get install bubblewrap) or pass --sandbox none to serve without one"
    )


async def kernel_address_space(
    *, kernel_name: str, root_dir: str, sandbox: bool, network: bool = True
) -> int:
    """Bytes of address space (``VmPeak``) the largest process of one fresh kernel reached by
    the time it answered: measured by starting one as visitors' kernels start (in the sandbox,
    if there is one), without a memory limit. ``--kernel-memory`` below it crash-loops."""
    from livecells.server.public import LimitedKernelManager

    os.makedirs(jupyter_runtime_dir(), exist_ok=True)
    km = LimitedKernelManager(
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-{os.getpid()}-measure.json"),
        kernel_name=kernel_name,
        memory_limit=0,
        cpu_limit=0,
        sandbox=sandbox,
        kernel_network=network,
    )
    with tempfile.TemporaryFile() as output:
        await km.start_kernel(cwd=root_dir, stdout=output, stderr=subprocess.STDOUT)
        client = km.client()
        client.start_channels()
        try:
            try:
                await client.wait_for_ready(timeout=120)
            except RuntimeError as exc:
                where = "in the sandbox" if sandbox else "here"
                output.seek(0)
                said = output.read().decode(errors="replace").strip().splitlines()[-1:]
                raise ConfigError(
                    f"a {kernel_name} kernel does not start {where} ({exc}); "
                    f"it said: {said[0] if said else 'nothing'}"
                ) from None
            assert km.provisioner is not None
            pid: int = km.provisioner.pid  # type: ignore[attr-defined]
            return max(_vm_peak(pid) for pid in _tree(pid))
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc's children lists)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += map(int, (task / "children").read_text().split())
    return found


def _vm_peak(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0
