"""The kernel image process: a Python that has imported ipykernel and what a kernel imports at
start, forking one child per kernel start.

Run by :mod:`livecells.provisioners.kernelimage` as ``python -c BOOT this-file FD``, where FD is
its end of a ``SOCK_SEQPACKET`` socket pair (no path on disk: only the process that made the
pair can ask for kernels). It imports the standard library and the kernel's packages only,
never livecells; it creates no thread, socket (but its own), event loop or ZMQ context before
forking, so each child starts as a fresh interpreter would, with its modules already in memory.

Protocol, one message per ``sendmsg``:

- image -> manager, once: ``{"ready": true, "pid", "stamp"}`` (``stamp``: the mtime of every
  folder Python imports from, taken *before* the imports; the manager rebuilds the image when
  it changes) or ``{"error": "..."}``;
- manager -> image, one per kernel: a JSON request (``argv``, ``env``, ``cwd``, ``umask``,
  ``rlimits``) with four file descriptors: a socket of its own for this kernel (the
  *connection*), and the kernel's stdin, stdout and stderr;
- image -> manager on the connection: ``{"pid"}`` with the child's pidfd attached, then
  ``{"exit": code}`` once the image has reaped the child (negative: killed by that signal).

The manager closing a connection kills that kernel's process group (the manager is gone);
closing its end of the pair retires the image: it forks no more and exits once its children
have exited.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
from typing import Any

PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "faulthandler",
)
"""What an ipykernel imports by the time it answers (measured: 970 modules of 973)."""
MAX_REQUEST = 4 * 1024 * 1024


def watched_paths() -> list[str]:
    """The folders whose listing decides what Python imports: sys.path's and the site folders
    (a ``.pth`` or a package added there changes the folder's mtime)."""
    import site

    paths = [path for path in sys.path if path]
    paths += [*site.getsitepackages(), site.getusersitepackages()]
    return list(dict.fromkeys(os.path.abspath(path) for path in paths))


def stamp(paths: list[str]) -> list[Any]:
    found: list[Any] = []
    for path in paths:
        try:
            found.append([path, os.stat(path).st_mtime_ns])
        except OSError:
            found.append([path, None])
    return found


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[2]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the manager's
    taken = stamp(watched_paths())
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # the image's folder is no kernel's
    try:
        for name in PRELOAD:
            importlib.import_module(name)
    except Exception as exc:  # reported to the manager, which starts the kernel cold
        control.send(json.dumps({"error": f"import failed: {exc!r}"}).encode())
        return
    if threading.active_count() != 1:
        control.send(json.dumps({"error": "an import started a thread"}).encode())
        return
    # Objects imported so far are never collected: the children's collector leaves them (and
    # their memory pages, shared with the image) untouched.
    gc.freeze()
    control.send(json.dumps({"ready": True, "pid": os.getpid(), "stamp": taken}).encode())
    request = serve(control)
    if request is not None:
        run_kernel(*request)


class Child:
    def __init__(self, pid: int, pidfd: int, conn: socket.socket | None) -> None:
        self.pid, self.pidfd, self.conn = pid, pidfd, conn


Forked = tuple[dict[str, Any], list[int], int]
"""In a child: its request, its stdio fds and the image's pid."""


def serve(control: socket.socket | None) -> Forked | None:
    """Fork kernels until retired and childless; in a child, what it is to become."""
    children: list[Child] = []
    while control is not None or children:
        watched = [control.fileno()] if control is not None else []
        watched += [child.pidfd for child in children]
        watched += [child.conn.fileno() for child in children if child.conn is not None]
        ready = readable(watched)
        if control is not None and control.fileno() in ready:
            try:
                data, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                control.close()
                control = None
            elif len(fds) == 4:
                forked = fork(data, fds, control, children)
                if forked is not None:
                    return forked
            else:
                for fd in fds:
                    os.close(fd)
        for child in list(children):
            if child.pidfd in ready:
                _, status = os.waitpid(child.pid, 0)
                if child.conn is not None:
                    reply = {"exit": os.waitstatus_to_exitcode(status)}
                    with contextlib.suppress(OSError):
                        child.conn.send(json.dumps(reply).encode())
                    child.conn.close()
                os.close(child.pidfd)
                children.remove(child)
            elif child.conn is not None and child.conn.fileno() in ready:
                try:
                    gone = not child.conn.recv(1)
                except OSError:
                    gone = True
                if gone:  # the manager went away without shutting the kernel down
                    with contextlib.suppress(OSError):
                        os.killpg(child.pid, signal.SIGKILL)
                    child.conn.close()
                    child.conn = None
    return None


def readable(fds: list[int]) -> set[int]:
    """Those of ``fds`` ready to read (or hung up), waiting until one is. ``poll``, not
    ``select``: select takes no descriptor above 1023, and a server holding many kernels and
    connections hands the image (its control socket keeps its number) and its kernels'
    connections numbers above that."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return {fd for fd, _ in poller.poll()}


def fork(
    data: bytes, fds: list[int], control: socket.socket, children: list[Child]
) -> Forked | None:
    conn: socket.socket | None = socket.socket(fileno=fds[0])
    assert conn is not None
    try:
        request = json.loads(data)
        argv, cwd = request["argv"], request["cwd"]
        error = None
        if argv[1:3] != ["-m", "ipykernel_launcher"] or not os.path.isdir(cwd):
            error = f"not a kernel this image starts: {argv[:3]} in {cwd}"
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        error = f"a bad request: {exc!r}"
    if error is not None:
        for fd in fds[1:]:
            os.close(fd)
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"error": error}).encode())
        conn.close()
        return None
    image = os.getpid()
    sys.stdout.flush()  # nothing the image buffered is written again by its child
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        control.close()
        conn.close()
        for child in children:
            os.close(child.pidfd)
            if child.conn is not None:
                child.conn.close()
        return request, fds[1:], image
    for fd in fds[1:]:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(conn, [json.dumps({"pid": pid}).encode()], [pidfd])
    except OSError:
        os.kill(pid, signal.SIGKILL)
        conn.close()
        conn = None
    children.append(Child(pid, pidfd, conn))
    return None


def run_kernel(request: dict[str, Any], stdio: list[int], image: int) -> None:
    """Become the kernel ``request`` asks for, as ``python -m ipykernel_launcher`` would."""
    os.setsid()  # as jupyter_client's start_new_session: interrupts go to the kernel's group
    _die_with(image)
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    import resource

    for name, (soft, hard) in request["rlimits"].items():
        with contextlib.suppress(AttributeError, OSError, ValueError):
            resource.setrlimit(getattr(resource, name), (soft, hard))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import random

    random.seed()  # also done at fork by random itself; numpy is not imported by the image
    import runpy

    import ipykernel_launcher  # type: ignore[import-untyped]
    from ipykernel.kernelapp import IPKernelApp

    # Read from the environment when ipykernel was imported (the image's): the kernel's own.
    parent = IPKernelApp.class_traits()["parent_handle"]
    parent.default_value = int(os.environ.get("JPY_PARENT_PID") or 0)

    sys.argv = [ipykernel_launcher.__file__, *request["argv"][3:]]
    sys.path.insert(0, os.getcwd())  # as `-m` puts it; the launcher takes it out again
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def _die_with(image: int) -> None:
    """The kernel is killed when the image dies (``PR_SET_PDEATHSIG``), as a cold kernel's
    parent poller ends it when its manager dies."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != image:  # the image died before prctl
        os._exit(1)


if __name__ == "__main__":
    main()
