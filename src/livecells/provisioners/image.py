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
  ``rlimits``; in a sandbox's template also ``sandbox``, see :func:`enter_sandbox`) with four
  file descriptors: a socket of its own for this kernel (the *connection*), and the kernel's
  stdin, stdout and stderr; in a template, a fifth: the read end of the kernel's *gate*;
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
import re
import select
import signal
import socket
import sys
import threading
from typing import Any, NoReturn

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
                data, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 5)
            except OSError:
                data, fds = b"", []
            if not data:
                control.close()
                control = None
            elif len(fds) in (4, 5):
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
        elif ("sandbox" in request) != (len(fds) == 5):
            error = "a sandboxed kernel comes with its gate, and only it"
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


def run_kernel(request: dict[str, Any], fds: list[int], image: int) -> None:
    """Become the kernel ``request`` asks for, as ``python -m ipykernel_launcher`` would."""
    os.setsid()  # as jupyter_client's start_new_session: interrupts go to the kernel's group
    _die_with(image)
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    if "sandbox" in request:
        enter_sandbox(request["sandbox"], fds[3])
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


# Linux's constants (<sched.h>, <sys/mount.h>, <sys/prctl.h>, <linux/capability.h>).
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL, CAPABILITY_VERSION_3 = 4, 0x20080522
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40


def enter_sandbox(box: dict[str, Any], gate: int) -> None:
    """In a kernel forked inside the sandbox's template (``livecells serve --public``): make the
    sandbox of this kernel alone, as bwrap makes one for a cold kernel, then return as the
    kernel's process, without a capability.

    The template is a bwrap sandbox (the system and the served folder read-only, the server's
    private folders hidden, a user namespace whose capabilities only this function uses). Once
    the manager has charged this process to the kernel's cgroup and opened ``gate``, it takes
    new mount, PID, IPC and UTS namespaces (and network, without the network: loopback alone);
    a home, ``/tmp`` and ``/dev/shm`` of its own (tmpfs); of the folder holding kernels'
    connection folders, its own only. Then it forks the namespace's init (pid 1: it mounts the
    namespace's ``/proc`` and reaps orphans; when the kernel ends, it ends, and the kernel
    takes every process of the namespace with it), which forks the kernel (pid 2), which drops
    every capability and sets ``no_new_privs`` before any of its code runs. This process stays
    outside, the one the manager signals (its process group is the kernel's too) and the image
    reaps, and exits with the kernel's exit code.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    try:
        opened = os.read(gate, 1) == b"1"  # nothing, or the end of file: the manager is gone
    except OSError:
        opened = False
    os.close(gate)
    if not opened:
        os._exit(1)
    try:
        namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        _call(libc.unshare(namespaces | (0 if box["network"] else CLONE_NEWNET)), "unshare")
        if not box["network"]:
            _loopback_up()
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
        for path, mode in ((box["home"], 0o700), ("/tmp", 0o1777), ("/dev/shm", 0o1777)):
            if os.path.isdir(path):
                _cover(libc, path, f"size={box['size']},mode={mode:o}")
        _private_mounts(libc, box)
        alive, holding = os.pipe()  # the init's way to tell this process is gone
    except (OSError, SandboxError) as exc:
        _fail(f"the kernel's sandbox could not be made: {exc}")
    init = os.fork()
    if init:
        os.close(alive)
        os._exit(_exit_code(os.waitpid(init, 0)[1]))
    os.close(holding)
    try:
        _call(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        os.set_blocking(alive, False)
        with contextlib.suppress(BlockingIOError):
            if not os.read(alive, 1):  # the end of file: it died before the prctl
                os._exit(1)
        _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except SandboxError as exc:
        _fail(f"the kernel's init could not be made: {exc}")
    kernel = os.fork()
    if kernel:
        while True:  # the namespace's init: reap every orphan until the kernel ends
            try:
                pid, status = os.wait()
            except ChildProcessError:
                os._exit(1)
            if pid == kernel:  # its code, but SANDBOX_FAILED, which is the sandbox's own
                code = _exit_code(status)
                os._exit(1 if code == SANDBOX_FAILED else code)
    os.close(alive)
    try:
        _drop_capabilities(libc)
    except (OSError, SandboxError) as exc:
        _fail(f"the kernel's capabilities could not be dropped: {exc}")


def _private_mounts(libc: Any, box: dict[str, Any]) -> None:
    """Of the folder of kernels' folders, this kernel's alone."""
    folder = box["folder"]
    own = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    kernels = os.path.dirname(folder)
    _mount(libc, "tmpfs", kernels, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
    os.mkdir(folder)
    _mount(libc, f"/proc/self/fd/{own}", folder, None, MS_BIND)
    os.close(own)
    os.chmod(kernels, 0o555)  # the kernel, with no capability left, cannot add to it


def _cover(libc: Any, path: str, options: str) -> None:
    """A new tmpfs on ``path``, with what the template had mounted inside it mounted there
    again, as it was (the kernel's Python, the served folder: bound back read-only into the
    hidden home or ``/tmp``), with what is mounted inside those (recursive binds: Linux binds
    mounts that hold locked mounts no other way)."""
    held = [(point, os.open(point, os.O_PATH)) for point in _mounts_inside(path)]
    _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for point, fd in held:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(point, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(point), exist_ok=True)
            os.close(os.open(point, os.O_CREAT | os.O_WRONLY, 0o600))
        _mount(libc, f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        os.close(fd)


def _mounts_inside(path: str) -> list[str]:
    """The outermost mount points strictly inside ``path``."""
    prefix = path.rstrip("/") + "/"
    points = set()
    with open("/proc/self/mountinfo") as mounts:
        for line in mounts:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point.startswith(prefix):
                points.add(point)
    return sorted(p for p in points if not any(p.startswith(q + "/") for q in points))


def _loopback_up() -> None:
    """A new network namespace's loopback starts down (bwrap brings it up for a cold kernel)."""
    import fcntl
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags))


def _drop_capabilities(libc: Any) -> None:
    """No capability left, in any set, and none to be gained (``no_new_privs``)."""
    import ctypes

    with open("/proc/sys/kernel/cap_last_cap") as last:
        for capability in range(int(last.read()) + 1):
            _call(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "PR_CAPBSET_DROP")
    _call(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "PR_CAP_AMBIENT")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: twice 32 bits, all 0
    _call(libc.capset(header, data), "capset")
    _call(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def _mount(
    libc: Any, source: str | None, target: str, kind: str | None, flags: int, data: str = ""
) -> None:
    encoded = [value.encode() if value is not None else None for value in (source, target, kind)]
    _call(libc.mount(*encoded, flags, data.encode() or None), f"mount {target}")


class SandboxError(Exception):
    """A step of a kernel's sandbox failed (its message: the step and the system's error)."""


def _call(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        errno = ctypes.get_errno()
        raise SandboxError(f"{what}: [Errno {errno}] {os.strerror(errno)}")


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


SANDBOX_FAILED = 125
"""The exit code of a kernel whose sandbox could not be made (a kernel's own 125 becomes 1)."""


def _fail(line: str) -> NoReturn:
    """A sandbox that cannot be made: no kernel (one line on its stderr, the server's log)."""
    with contextlib.suppress(OSError):
        os.write(2, f"livecells: {line}\n".encode())
    os._exit(SANDBOX_FAILED)


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
