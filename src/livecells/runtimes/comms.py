"""Jupyter comms on the client side: open, message and close, with binary buffers.

Comms opened by the kernel are handed to the callback registered for their ``target_name``; a
comm with no registered target is closed again at once, as JupyterLab does. Comms opened here
are announced with ``comm_open`` on the shell channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from livecells.errors import MessageError
from livecells.messages import Message

if TYPE_CHECKING:
    from livecells.runtimes.base import Kernel

__all__ = ["Comm", "CommManager"]

MessageHandler = Callable[[Message], object]
TargetHandler = Callable[["Comm", Message], object]


class Comm:
    """One side of a comm channel between this client and the kernel."""

    def __init__(self, kernel: Kernel, comm_id: str, target_name: str) -> None:
        self.kernel = kernel
        self.comm_id = comm_id
        self.target_name = target_name
        self.closed = False
        self._on_msg: list[MessageHandler] = []
        self._on_close: list[MessageHandler] = []

    def on_msg(self, handler: MessageHandler) -> None:
        """Call ``handler(message)`` for every ``comm_msg`` the kernel sends on this comm."""
        self._on_msg.append(handler)

    def on_close(self, handler: MessageHandler) -> None:
        """Call ``handler(message)`` when the kernel closes this comm."""
        self._on_close.append(handler)

    async def send(
        self, data: dict[str, Any] | None = None, *, buffers: list[bytes] | None = None
    ) -> None:
        if self.closed:
            raise MessageError(f"comm {self.comm_id} is closed: open a new one with open_comm()")
        await self.kernel.send_shell(
            "comm_msg", {"comm_id": self.comm_id, "data": data or {}}, buffers=buffers
        )

    async def close(self, data: dict[str, Any] | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        self.kernel.comms.forget(self.comm_id)
        await self.kernel.send_shell("comm_close", {"comm_id": self.comm_id, "data": data or {}})


class CommManager:
    """Routes comm messages from the kernel to :class:`Comm` objects and target callbacks."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.comms: dict[str, Comm] = {}
        self.targets: dict[str, TargetHandler] = {}

    def register_target(self, target_name: str, handler: TargetHandler) -> None:
        self.targets[target_name] = handler

    async def open(
        self,
        target_name: str,
        data: dict[str, Any] | None = None,
        *,
        buffers: list[bytes] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Comm:
        comm = Comm(self.kernel, uuid.uuid4().hex, target_name)
        self.comms[comm.comm_id] = comm
        await self.kernel.send_shell(
            "comm_open",
            {"comm_id": comm.comm_id, "target_name": target_name, "data": data or {}},
            buffers=buffers,
            metadata=metadata,
        )
        return comm

    def forget(self, comm_id: str) -> None:
        self.comms.pop(comm_id, None)

    def handle(self, msg: Message) -> Awaitable[Message] | None:
        """Route one iopub comm message; returns a reply to send, if any."""
        comm_id = str(msg.content.get("comm_id", ""))
        if msg.msg_type == "comm_open":
            target = str(msg.content.get("target_name", ""))
            comm = Comm(self.kernel, comm_id, target)
            handler = self.targets.get(target)
            if handler is None:
                comm.closed = True
                return self.kernel.send_shell("comm_close", {"comm_id": comm_id, "data": {}})
            self.comms[comm_id] = comm
            handler(comm, msg)
        elif msg.msg_type == "comm_msg":
            known = self.comms.get(comm_id)
            if known is not None:
                for on_msg in list(known._on_msg):
                    on_msg(msg)
        elif msg.msg_type == "comm_close":
            closed = self.comms.pop(comm_id, None)
            if closed is not None:
                closed.closed = True
                for on_close in list(closed._on_close):
                    on_close(msg)
        return None
