"""Runtime ``local``: a kernel from the user's kernelspecs, started by jupyter_client.

Messages travel over the kernel's ZMQ sockets directly (one reader per socket, no queue in
between), signed by jupyter_client's :class:`~jupyter_client.session.Session`. A watcher polls
the kernel process so that a kernel that dies mid-cell ends the cell with
:class:`~livecells.errors.KernelDied` instead of a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import shutil
import tempfile
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.adapter import adapt
from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session
from zmq.utils.monitor import parse_monitor_message

from livecells.errors import ConnectionFailed, KernelNotFound, MessageError
from livecells.messages import Message
from livecells.provisioners.kernelimage import ImageKernelManager, reconnect_quickly
from livecells.runtimes.base import Kernel, Status, log

__all__ = ["LocalKernel"]

POLL_INTERVAL = 0.1


class LocalKernel(Kernel):
    """A kernel process on this machine, from a kernelspec (``kernel_name``)."""

    runtime = "local"

    def __init__(
        self,
        kernel_name: str = "python3",
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        extra_arguments: list[str] | None = None,
        transport: str = "ipc",
        history_file: str | None = None,
        kernel_image: bool = True,
        **options: Any,
    ) -> None:
        """``history_file``: where an IPython kernel keeps its input history (``":memory:"``
        keeps none, as nbclient does: no SQLite write per cell, no lock shared by parallel
        kernels); ``None`` leaves the kernel's own setting. ``kernel_image``: python3 kernels
        are forked from a kernel image (:mod:`livecells.provisioners.kernelimage`; also off
        with ``LIVECELLS_KERNEL_IMAGE=0``)."""
        super().__init__(**options)
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.env = env
        self.extra_arguments = extra_arguments or []
        self.transport = transport
        self.history_file = history_file
        self.kernel_image = kernel_image
        self.manager: AsyncKernelManager | None = None
        self._sockets: dict[str, Any] = {}
        self._stdin_monitor: Any = None
        self._stdin_connected = asyncio.Event()
        self._restarting = False
        self._ipc_dir: str | None = None

    async def _start(self) -> None:
        manager_class = ImageKernelManager if self.kernel_image else AsyncKernelManager
        manager = manager_class(kernel_name=self.kernel_name, transport=self.transport)
        reconnect_quickly(manager.context)  # this manager's own context
        try:
            manager.kernel_spec  # noqa: B018 - resolves the kernelspec, raising if it is missing
        except NoSuchKernel:
            from jupyter_client.kernelspec import KernelSpecManager

            names = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
            raise KernelNotFound(
                f"no kernelspec named {self.kernel_name!r} (installed: {names}); "
                "install one, e.g. `python -m ipykernel install --user`"
            ) from None
        if self.transport == "ipc":
            # jupyter_client names IPC sockets "kernel-ipc-N" relative to the current directory
            # and picks N before the kernel binds it: kernels started together, or in another
            # directory than ours (``cwd``), would cross or miss their sockets. A private
            # directory per kernel, by absolute path, rules both out.
            self._ipc_dir = tempfile.mkdtemp(prefix="livecells-")
            manager.ip = os.path.join(self._ipc_dir, "kernel")
        else:
            # One process-wide cache of ports handed out, so that kernels started together
            # never get the same port.
            manager.cache_ports = True
        self.manager = manager
        self._set_status(Status.STARTING, f"starting kernel {self.kernel_name}")
        arguments = list(self.extra_arguments)
        if self.history_file is not None and manager.ipykernel:
            arguments.append(f"--HistoryManager.hist_file={self.history_file}")
        kwargs: dict[str, Any] = {"extra_arguments": arguments}
        if self.cwd is not None:
            kwargs["cwd"] = self.cwd
        if self.env is not None:
            kwargs["env"] = self.env
        await manager.start_kernel(**kwargs)
        self._connect_sockets()
        self._spawn(self._watch_process())

    def _connect_sockets(self) -> None:
        assert self.manager is not None
        manager = self.manager
        identity = manager.session.bsession
        self._sockets = {
            "shell": manager.connect_shell(identity=identity),
            "iopub": manager.connect_iopub(),
            "stdin": self._connect_stdin(manager, identity),
            "control": manager.connect_control(identity=identity),
        }
        for channel, socket in self._sockets.items():
            self._spawn(self._read(channel, socket))

    def _connect_stdin(self, manager: AsyncKernelManager, identity: bytes) -> Any:
        """The stdin socket, watched from before it connects. The kernel's stdin is a ROUTER:
        an ``input_request`` sent before our DEALER's handshake has reached it is dropped, and
        the cell waits forever (seen about once in 30 starts on a loaded machine). Kernel
        readiness therefore includes this handshake (:meth:`_await_channels`)."""
        socket = manager.context.socket(zmq.DEALER)
        socket.linger = 1000
        socket.identity = identity
        if getattr(manager, "curve_publickey", None) is not None:
            socket.curve_secretkey = manager.curve_secretkey
            socket.curve_publickey = manager.curve_publickey
            socket.curve_serverkey = manager.curve_publickey
        events = zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED
        self._stdin_monitor = socket.get_monitor_socket(events)
        self._spawn(self._watch_stdin(self._stdin_monitor))
        socket.connect(manager._make_url("stdin"))
        return socket

    async def _watch_stdin(self, monitor: Any) -> None:
        while True:
            try:
                frames = await monitor.recv_multipart()
            except (zmq.ZMQError, asyncio.CancelledError):
                return
            event = parse_monitor_message(frames)["event"]
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._stdin_connected.set()
            elif event == zmq.EVENT_DISCONNECTED:
                self._stdin_connected.clear()

    async def _await_channels(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._stdin_connected.wait(), timeout)
        except TimeoutError:
            raise ConnectionFailed(
                f"the kernel's stdin channel did not connect within {timeout:.0f} s; "
                "input() would not be answered"
            ) from None

    async def _read(self, channel: str, socket: Any) -> None:
        assert self.manager is not None
        session = self.manager.session
        while True:
            try:
                frames = await socket.recv_multipart(copy=False)
            except (zmq.ZMQError, asyncio.CancelledError):
                return
            try:
                msg = _decode(session, channel, frames)
            except MessageError as exc:
                log.warning("dropped a message on %s: %s", channel, exc)
                continue
            self._dispatch(msg)

    async def _watch_process(self) -> None:
        assert self.manager is not None
        reported = False
        while not self._closed:
            await asyncio.sleep(POLL_INTERVAL)
            if self._restarting:
                reported = False
                continue
            alive = await self.manager.is_alive()
            if not alive and not reported and not self._closed:
                reported = True
                self._kernel_died("the kernel process exited")
            elif alive:
                reported = False

    async def _send(self, msg: Message) -> None:
        assert self.manager is not None
        socket = self._sockets[msg.channel]
        self.manager.session.send(socket, msg.to_dict(), buffers=msg.buffers or None)

    async def _interrupt(self) -> None:
        assert self.manager is not None
        await self.manager.interrupt_kernel()

    async def _restart(self) -> None:
        assert self.manager is not None
        self._restarting = True
        self._stdin_connected.clear()  # the new process's handshake sets it again
        try:
            await self.manager.restart_kernel(now=True)
        finally:
            self._restarting = False

    async def _shutdown(self) -> None:
        stdin = self._sockets.get("stdin")
        if stdin is not None and self._stdin_monitor is not None:
            with contextlib.suppress(zmq.ZMQError):
                stdin.disable_monitor()
            self._stdin_monitor.close(linger=0)
            self._stdin_monitor = None
        for socket in self._sockets.values():
            socket.close(linger=0)
        self._sockets = {}
        if self.manager is not None and self.manager.has_kernel:
            with contextlib.suppress(Exception):
                await self.manager.shutdown_kernel(now=False)
        if self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None


DELIMITER = b"<IDS|MSG>"


def _decode(session: Session, channel: str, frames: list[Any]) -> Message:
    """One ZMQ message as a :class:`Message`, its signature checked.

    Leaner than ``Session.deserialize``, which parses every date of every header (a third of
    the client's time per cell): dates stay the ISO strings the kernel sent.
    """
    parts = [frame.bytes for frame in frames]
    try:
        start = parts.index(DELIMITER) + 1
    except ValueError:
        raise MessageError("no <IDS|MSG> delimiter") from None
    if len(parts) < start + 5:
        raise MessageError("fewer than five message parts")
    signature, *body = parts[start : start + 5]
    if session.auth is not None:
        check = session.auth.copy()
        for part in body:
            check.update(part)
        if not hmac.compare_digest(signature, check.hexdigest().encode()):
            raise MessageError("invalid signature")
    try:
        header, parent, metadata, content = (session.unpack(part) for part in body)
    except ValueError as exc:
        raise MessageError(f"undecodable part: {exc}") from None
    raw = adapt(
        {
            "header": header,
            "msg_id": header.get("msg_id"),
            "msg_type": header.get("msg_type"),
            "parent_header": parent,
            "metadata": metadata,
            "content": content,
        }
    )
    return Message(
        channel=channel,
        header=raw["header"],
        parent_header=raw["parent_header"],
        metadata=raw["metadata"],
        content=raw["content"],
        buffers=parts[start + 5 :],
    )
