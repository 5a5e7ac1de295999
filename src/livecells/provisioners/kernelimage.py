"""Kernels forked from a kernel image: python3 kernels that start in a fraction of the time.

A cold ipykernel spends most of its start importing IPython, ipykernel, zmq, tornado, jedi and
debugpy (~0.5 s of CPU here). :class:`KernelImageProvisioner` keeps, per interpreter and
environment, one *image* process (:mod:`livecells.provisioners.image`) that has done those
imports and created no thread, socket or event loop; each kernel start asks it to fork, and the
child makes its own sockets, threads and loop from the connection file, in its own cwd, env,
rlimits and session, with its random state reseeded. Its pid is the image's child, not ours:
the provisioner watches it through a pidfd the image hands over, signals its process group,
and learns its exit status from the image, which reaps it.

What may be forked: the native ``python3`` ipykernel spec of this very interpreter (argv
``[sys.executable, -m, ipykernel_launcher, -f, {connection_file}, ...]``). Anything else (another
kernel, another Python, a wrapped command) starts cold, with a debug line saying why;
``--public``'s sandboxed kernels are forked by a subclass, in a sandbox's template
(:class:`livecells.server.sandbox.SandboxImageProvisioner`, through the hooks below).

An image is rebuilt when the environment changes: the mtime of any folder on its ``sys.path``
or of its site folders (a package or ``.pth`` installed, removed or upgraded), the kernelspec's
file, or a ``PYTHON*`` variable in the kernel's environment. What a fork cannot give: each
kernel's ``str`` hash seed is the image's (``PYTHONHASHSEED`` is read once, at interpreter
start), so forked kernels hash strings alike.

Off with ``LIVECELLS_KERNEL_IMAGE=0`` (or ``kernel_image=False`` on the local runtime,
``--no-kernel-image`` on ``livecells run`` and ``livecells serve``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import resource
import select
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from livecells.errors import LivecellsError
from livecells.provisioners.image import stamp

__all__ = [
    "ENV_SWITCH",
    "ImageKernelManager",
    "ImageUnavailable",
    "KernelImageProvisioner",
    "enabled",
    "forkable",
    "reconnect_quickly",
]

log = logging.getLogger("livecells.kernelimage")

ENV_SWITCH = "LIVECELLS_KERNEL_IMAGE"
"""``0`` (or ``false``, ``no``, ``off``) turns kernel images off in this process."""
IMAGE_SCRIPT = str(Path(__file__).with_name("image.py"))
_BOOT = (
    "import sys; p = sys.argv[1]; "
    "exec(compile(open(p).read(), p, 'exec'), {'__name__': '__main__', '__file__': p})"
)
READY_TIMEOUT = 60.0
EXIT_WAIT = 2.0
RLIMITS = [name for name in dir(resource) if name.startswith("RLIMIT_")]


class ImageUnavailable(LivecellsError):
    """The kernel image could not start a kernel (it did not start, or did not fork): the
    provisioner catches it, logs it and starts the kernel cold."""


def enabled() -> bool:
    """Whether kernel images are on in this process (:data:`ENV_SWITCH`); they need Linux's
    pidfds (5.3 and later): elsewhere kernels start cold."""
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "SOCK_SEQPACKET"):
        return False
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def forkable(cmd: list[str], kernel_spec: Any) -> str | None:
    """``None`` when an image may start the kernel ``cmd``; else why not, in a few words."""
    if getattr(kernel_spec, "language", "python").lower() != "python":
        return f"a {kernel_spec.language} kernel"
    if not cmd or os.path.abspath(cmd[0]) != sys.executable:
        return f"{cmd[:1]} is not this interpreter ({sys.executable})"
    if cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return f"not `python -m ipykernel_launcher` ({' '.join(cmd[1:3])})"
    return None


@dataclass
class _Image:
    """One image process, and the environment it was built for."""

    process: subprocess.Popen[bytes]
    control: socket.socket
    stamp: list[Any]
    spec_mtime: int | None

    def current(self, spec_mtime: int | None) -> bool:
        """Whether the environment is still the one the image imported from."""
        if spec_mtime != self.spec_mtime or self.process.poll() is not None:
            return False
        paths = [path for path, _ in self.stamp]
        return stamp(paths) == self.stamp

    def retire(self) -> None:
        """No more forks: the image exits once its kernels have (they keep running)."""
        self.control.close()


@dataclass
class _Registry:
    """The images of this process by key, those being started (kernels started together wait
    for one image), keys whose image failed to start (their kernels start cold, without trying
    again), and retired images whose kernels still run (reaped once they exit)."""

    images: dict[tuple[str, ...], _Image]
    starting: dict[tuple[str, ...], asyncio.Future[_Image]]
    failed: set[tuple[str, ...]]
    retired: list[_Image]


_REGISTRY = _Registry({}, {}, set(), [])


def _retire_all() -> None:
    """At exit: every image retired and, once its kernels are gone, reaped (so its CPU time
    and its kernels' count in this process's ``RUSAGE_CHILDREN``, as cold kernels' do); an
    image whose kernels still run after a moment is left to end with them."""
    images = [*_REGISTRY.images.values(), *_REGISTRY.retired]
    _REGISTRY.images.clear()
    for image in images:
        image.control.close()
    for image in images:
        with contextlib.suppress(subprocess.TimeoutExpired):
            image.process.wait(EXIT_WAIT)


atexit.register(_retire_all)


def _spec_mtime(kernel_spec: Any) -> int | None:
    try:
        return os.stat(os.path.join(kernel_spec.resource_dir, "kernel.json")).st_mtime_ns
    except (OSError, AttributeError, TypeError):
        return None


def _key(executable: str, env: dict[str, str], wrap: list[str]) -> tuple[str, ...]:
    """What an image is shared by: the interpreter, what it reads at start (``PYTHON*``), and
    the command it runs under (a sandbox's)."""
    python = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("PYTHON"))
    return (executable, *python, *wrap)


async def _image(executable: str, env: dict[str, str], kernel_spec: Any, wrap: list[str]) -> _Image:
    """The current image for this interpreter, environment and wrapping command (``wrap``,
    e.g. a sandbox's: the image runs as ``[*wrap, executable, ...]``), started (or rebuilt) if
    need be."""
    key = _key(executable, env, wrap)
    if key in _REGISTRY.failed:
        raise ImageUnavailable("its image failed to start before (see the warning above)")
    spec_mtime = _spec_mtime(kernel_spec)
    image = _REGISTRY.images.get(key)
    if image is not None:
        if image.current(spec_mtime):
            return image
        log.debug("kernel image: the environment changed, rebuilding the image")
        del _REGISTRY.images[key]
        image.retire()
        _REGISTRY.retired.append(image)
    _REGISTRY.retired = [old for old in _REGISTRY.retired if old.process.poll() is None]
    starting = _REGISTRY.starting.get(key)
    if starting is not None and starting.get_loop() is asyncio.get_running_loop():
        return await asyncio.shield(starting)
    starting = _REGISTRY.starting[key] = asyncio.get_running_loop().create_future()
    try:
        image = await _start_image(executable, env, spec_mtime, wrap)
        _REGISTRY.images[key] = image
        starting.set_result(image)
    except ImageUnavailable as exc:
        _REGISTRY.failed.add(key)
        starting.set_exception(exc)
        raise
    finally:
        del _REGISTRY.starting[key]
        if not starting.done():  # cancelled: those waiting for it start cold
            starting.set_exception(ImageUnavailable("the image's start was cancelled"))
        starting.exception()  # marked retrieved: kernels waiting for it have it raised
    return image


async def _start_image(
    executable: str, env: dict[str, str], spec_mtime: int | None, wrap: list[str]
) -> _Image:
    process, ours = _spawn_image(executable, env, wrap)
    ours.setblocking(False)
    try:
        try:
            await asyncio.wait_for(_readable(ours.fileno()), READY_TIMEOUT)
            data = ours.recv(1024 * 1024)
            ready: dict[str, Any] = json.loads(data) if data else {"error": "it exited"}
        except (TimeoutError, OSError, ValueError) as exc:
            ready = {"error": repr(exc)}
        if "error" in ready:
            raise ImageUnavailable(f"the kernel image did not start: {ready['error']}")
    except BaseException:  # cancelled too: no image is left behind
        process.kill()
        process.wait()
        ours.close()
        raise
    ours.setblocking(True)
    return _Image(process, ours, ready["stamp"], spec_mtime)


def _spawn_image(
    executable: str, env: dict[str, str], wrap: list[str]
) -> tuple[subprocess.Popen[bytes], Any]:
    """The image process (its imports still running) and our end of its socket pair."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        process = subprocess.Popen(
            [*wrap, executable, "-c", _BOOT, IMAGE_SCRIPT, str(theirs.fileno())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
            env=env,
            cwd="/",
            start_new_session=True,  # the terminal's Ctrl-C is not the image's
        )
    finally:
        theirs.close()
    return process, ours


async def _readable(fd: int) -> None:
    """Until ``fd`` is readable (the event loop watches it: no thread, no polling)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _stdio_fd(value: Any, default: int, opened: list[int]) -> int | None:
    """The file descriptor a Popen-style stdio argument stands for (``None``: not supported)."""
    if value is None:
        return default
    if value == subprocess.DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        opened.append(fd)
        return fd
    if isinstance(value, int) and value >= 0:
        return value
    if hasattr(value, "fileno"):
        return int(value.fileno())
    return None  # PIPE, STDOUT: only a real Popen gives those


def _request(
    cmd: list[str], kwargs: dict[str, Any], opened: list[int]
) -> tuple[dict[str, Any], list[int]]:
    """The image's request for a kernel as ``launch_kernel(cmd, **kwargs)`` would start it,
    and its stdin, stdout and stderr (those opened here added to ``opened``)."""
    env = dict(kwargs.get("env") or os.environ)
    if not kwargs.get("independent"):
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launch_kernel
    stdin = kwargs.get("stdin")  # none: at end of file, as jupyter_client's closed pipe
    fds = [
        _stdio_fd(subprocess.DEVNULL if stdin is None else stdin, 0, opened),
        _stdio_fd(kwargs.get("stdout"), 1, opened),
        _stdio_fd(kwargs.get("stderr"), 2, opened),
    ]
    stdio = [fd for fd in fds if fd is not None]
    if len(stdio) != 3:
        raise ImageUnavailable("stdio pipes are not supported")
    umask = os.umask(0o22)
    os.umask(umask)
    request = {
        "argv": cmd,
        "env": env,
        "cwd": os.path.abspath(kwargs.get("cwd") or os.getcwd()),
        "umask": umask,
        "rlimits": {name: resource.getrlimit(getattr(resource, name)) for name in RLIMITS},
    }
    return request, stdio


class KernelImageProvisioner(LocalProvisioner):
    """A ``LocalProvisioner`` whose python3 kernels are forked from a kernel image (see the
    module's docstring); other kernels, or a failing image, start cold as usual."""

    forked = False
    _pidfd: int | None = None
    _conn: socket.socket | None = None
    _done: asyncio.Future[int] | None = None
    _collector: asyncio.Future[None] | None = None

    @property
    def has_process(self) -> bool:
        return self._pidfd is not None if self.forked else super().has_process

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        self.forked = False
        kernel, how = self.forking(cmd, kwargs)
        why = forkable(kernel, self.kernel_spec) or self.not_forked()
        if why is None:
            try:
                await self._fork(kernel, **how)
                return self.connection_info
            except (ImageUnavailable, OSError, ValueError, KeyError) as exc:
                log.warning("kernel image: starting the kernel cold: %s", exc)
        else:
            log.debug("kernel image: starting the kernel cold: %s", why)
        return await super().launch_kernel(cmd, **kwargs)

    # -- what a subclass may change (a sandbox's template: livecells.server.sandbox) ----------

    def forking(self, cmd: list[str], kwargs: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """The kernel command an image would fork, and ``launch_kernel``'s arguments for it,
        from those of a cold start."""
        return cmd, kwargs

    def not_forked(self) -> str | None:
        """Why this kernel is not forked, beyond :func:`forkable` (``None``: it may be)."""
        return None

    def image_command(self) -> list[str]:
        """The command the image runs under (nothing: as it is)."""
        return []

    def prepare(self, request: dict[str, Any], fds: list[int], opened: list[int]) -> None:
        """Change the image's request and its file descriptors (those opened go in
        ``opened``, closed once sent)."""

    def started(self) -> None:
        """The fork has answered (``self.pid``, the pidfd): make the kernel go on. Raises
        :class:`ImageUnavailable` if it cannot (the kernel is then released)."""

    # -------------------------------------------------------------------------------------------

    async def _fork(self, cmd: list[str], **kwargs: Any) -> None:
        opened: list[int] = []
        try:
            request, fds = _request(cmd, kwargs, opened)
            self.prepare(request, fds, opened)
            image = await _image(cmd[0], request["env"], self.kernel_spec, self.image_command())
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                # One message, sent whole (SOCK_SEQPACKET), between two awaits.
                socket.send_fds(
                    image.control, [json.dumps(request).encode()], [theirs.fileno(), *fds]
                )
            finally:
                theirs.close()
        finally:
            for fd in opened:
                os.close(fd)
        ours.setblocking(False)
        try:
            await asyncio.wait_for(_readable(ours.fileno()), READY_TIMEOUT)
            message, got, _, _ = socket.recv_fds(ours, 65536, 1)
            reply: dict[str, Any] = (
                json.loads(message) if message else {"error": "the image exited"}
            )
        except (TimeoutError, OSError, ValueError) as exc:
            ours.close()  # the image kills a kernel whose connection closes
            raise ImageUnavailable(f"the kernel image did not fork: {exc!r}") from None
        except BaseException:  # cancelled: no kernel is left behind
            ours.close()
            raise
        if "error" in reply or not got:
            ours.close()
            for fd in got:
                os.close(fd)
            raise ImageUnavailable(f"the kernel image did not fork: {reply.get('error')}")
        self.forked = True
        self._conn, self._pidfd = ours, got[0]
        self.pid = self.pgid = int(reply["pid"])
        self.cwd = request["cwd"]
        self._watch()
        try:
            self.started()
        except BaseException:
            self._release()
            self.forked = False
            raise

    def _watch(self) -> None:
        """Watch the pidfd (once, whoever waits): when the kernel exits, collect the exit
        code the image reports once it has reaped it (1 if it says none)."""
        assert self._pidfd is not None and self._conn is not None
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        pidfd, conn = self._pidfd, self._conn

        async def collect() -> None:
            code = 1
            try:
                await asyncio.wait_for(_readable(conn.fileno()), READY_TIMEOUT)
                data = conn.recv(65536)
                code = int(json.loads(data)["exit"]) if data else 1
            except (TimeoutError, OSError, ValueError, KeyError, TypeError):
                pass
            if not done.done():
                done.set_result(code)

        def exited() -> None:
            loop.remove_reader(pidfd)
            self._collector = asyncio.ensure_future(collect())

        loop.add_reader(pidfd, exited)
        self._done = done

    def _exited(self) -> bool:
        """Whether the kernel has exited (its pidfd is readable). ``poll``: ``select`` raises
        for a descriptor above 1023, which a server holding many kernels gives their pidfds
        (interrupts and restarts of those kernels failed)."""
        assert self._pidfd is not None
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        return bool(poller.poll(0))

    async def poll(self) -> int | None:
        if not self.forked:
            return await super().poll()
        if self._done is None:
            return 0
        if self._done.done():
            return self._done.result()
        if self._pidfd is None or not self._exited():
            return None
        return await asyncio.shield(self._done)  # exited: the image's report is on its way

    async def wait(self) -> int | None:
        if not self.forked:
            return await super().wait()
        if self._done is None:
            return 0
        code = await asyncio.shield(self._done)
        self._release()
        return code

    def _release(self) -> None:
        """Stop watching, and close the pidfd and the connection (the image, seeing it
        closed, kills the kernel if it still runs)."""
        if self._pidfd is not None:
            with contextlib.suppress(RuntimeError, ValueError):  # a loop closed meanwhile
                asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        conn, self._conn = self._conn, None
        collector, self._collector = self._collector, None
        if collector is not None and not collector.done() and conn is not None:
            # Closed once the collector has stopped watching it: a descriptor closed while
            # watched is reused by the next socket (the next fork's, in the same step), and
            # the stale watch, removed later, took the new one's with it (a restart waited
            # its full timeout and started cold).
            watched = conn

            def close(_: object) -> None:
                watched.close()

            collector.add_done_callback(close)
            conn = None
        if collector is not None:
            collector.cancel()
        if conn is not None:
            conn.close()
        if self._done is not None and not self._done.done():
            self._done.set_result(1)

    async def send_signal(self, signum: int) -> None:
        if not self.forked:
            return await super().send_signal(signum)
        if self._pidfd is None or self.pid is None or self._exited():
            return None
        try:
            os.killpg(self.pid, signum)  # the kernel's session: it and its subprocesses
        except OSError:
            signal.pidfd_send_signal(self._pidfd, signum)
        return None

    async def kill(self, restart: bool = False) -> None:
        if not self.forked:
            return await super().kill(restart=restart)
        with contextlib.suppress(ProcessLookupError):
            await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if not self.forked:
            return await super().terminate(restart=restart)
        with contextlib.suppress(ProcessLookupError):
            await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        if self.forked:
            self._release()
        await super().cleanup(restart=restart)


class ImageKernelManager(AsyncKernelManager):
    """jupyter_client's ``AsyncKernelManager`` with :class:`KernelImageProvisioner` (unless
    :func:`enabled` says no): what the local runtime starts kernels with."""

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        use_image(self, kw)
        return await super()._async_pre_start_kernel(**kw)


def reconnect_quickly(context: Any) -> None:
    """Sockets of ``context`` made from now on retry a connection after 10 ms, backing off to
    1 s for a kernel that is gone. A client's sockets usually connect before a forked kernel
    has bound its own, and ZeroMQ's default retry (100 ms) was then most of the start."""
    import zmq

    context.setsockopt(zmq.RECONNECT_IVL, 10)
    context.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)


def use_image(manager: Any, kw: dict[str, Any]) -> None:
    """Give ``manager`` a :class:`KernelImageProvisioner` before its first start (a restart
    keeps the one it has), when kernel images are on."""
    import uuid

    if manager.provisioner is None and enabled():
        manager.kernel_id = manager.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
        manager.provisioner = KernelImageProvisioner(
            kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager
        )
