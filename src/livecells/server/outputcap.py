"""The output cap of ``livecells serve --public``: one execution's output bytes, counted over
every iopub message a visitor receives on a kernel WebSocket (a local kernel's, or a gateway's),
and the WebSockets a visitor (and an address) may hold. Past the cap the reader gets one line
saying so and the rest is dropped; the visitor's activity is noted for culling."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1
from tornado import web
from traitlets import Int
from traitlets.config import LoggingConfigurable

from livecells.server.public import VisitorKernels, _short, client_address
from livecells.server.websocket import (
    NoDelayGatewayWebsocketConnection,
    NoDelayWebsocketConnection,
)

__all__ = ["OutputCap", "PublicGatewayWebsocketConnection", "PublicWebsocketConnection"]


class OutputCap(LoggingConfigurable):
    """The output cap of one execution, shared by the connections to local kernels and to a
    gateway's: every iopub message the visitor receives counts against the allowance (comm
    messages, messages with forged or no parent); it is renewed only by the idle status that
    ends one of the visitor's own requests, once per request, which the kernel cannot make up."""

    max_output_bytes = Int(
        1_000_000, config=True, help="Output bytes one execution may send (0: no limit)."
    )

    @property
    def _requests(self) -> set[str]:
        """The visitor's requests whose end (their idle status) has not come yet."""
        requests: set[str] = self.__dict__.setdefault("_pending_requests", set())
        return requests

    def _note_request(self, message: Any, subprotocol: str | None) -> None:
        """Note a message the visitor sent: the kernel's activity (what culling goes by) and,
        for the cap, a request whose end renews the allowance."""
        header = _incoming_header(message, subprotocol)
        if header is None:
            return
        kernels = getattr(self, "multi_kernel_manager", None)
        if isinstance(kernels, VisitorKernels):
            kernels.note_activity(getattr(self, "kernel_id", ""))
        msg_id = header.get("msg_id")
        if isinstance(msg_id, str) and len(self._requests) < 10_000:
            self._requests.add(msg_id)
            self.__dict__["_last_request"] = header

    def _past_cap(self, kind: str, parent: Any, size: int, idle: bool) -> bool:
        """Whether an iopub message of ``kind`` and ``size`` bytes, answering ``parent``, is
        to be dropped; the first one past the cap tells the reader (:meth:`_tell_reader`), in
        the visitor's latest cell whatever parent the kernel gave, and the operator.
        ``idle``: an idle status."""
        request = parent.get("msg_id") if isinstance(parent, dict) else None
        if kind == "status" and idle and request in self._requests:
            self._requests.discard(request)
            self.__dict__["_output_bytes"] = 0
            return False
        total = self.__dict__.get("_output_bytes", 0) + size
        self.__dict__["_output_bytes"] = total
        if total <= self.max_output_bytes:
            return False
        if total - size <= self.max_output_bytes:
            self.log.warning(
                "livecells: kernel %s: an execution passed %d output bytes; the rest is dropped",
                getattr(self, "kernel_id", "?"),
                self.max_output_bytes,
            )
            self._tell_reader(
                f"\n[livecells] this cell's output passed this site's limit of "
                f"{self.max_output_bytes:,} bytes: the rest is not shown.\n",
                self.__dict__.get("_last_request") or (parent if isinstance(parent, dict) else {}),
            )
        return True

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        raise NotImplementedError


class PublicWebsocketConnection(OutputCap, NoDelayWebsocketConnection):
    """A visitor's connection to a local kernel: caps the output the visitor receives
    (:class:`OutputCap`), notes the visitor's activity (what culling goes by), and caps the
    WebSockets one visitor, or one address, may hold open."""

    max_websockets = Int(
        20,
        config=True,
        help="Kernel WebSockets one visitor, and one client address, may hold open (0: no limit).",
    )

    _open: ClassVar[dict[str, int]] = {}
    """Open connections per visitor and per client address, across the server."""

    @property
    def _holders(self) -> tuple[str, str]:
        handler = self.websocket_handler
        return handler.current_user.username, client_address(handler)

    def _refused(self) -> str | None:
        if not self.max_websockets:
            return None
        visitor, address = self._holders
        if max(self._open.get(visitor, 0), self._open.get(address, 0)) >= self.max_websockets:
            self.log.warning(
                "livecells: %s (%s) holds %d kernel WebSockets, the limit",
                _short(visitor),
                address,
                self.max_websockets,
            )
            return (
                f"too many open kernel connections ({self.max_websockets}): "
                "close some of this site's tabs"
            )
        return None

    async def prepare(self) -> None:
        refused = self._refused()
        if refused:
            raise web.HTTPError(429, refused, reason=refused[:60])
        await super().prepare()

    def connect(self) -> asyncio.Future[None] | None:  # type: ignore[override]
        # Counted once open (a refused or failed handshake never reaches here); checked
        # again, for handshakes that were all under way at once.
        refused = self._refused()
        for holder in self._holders:
            self._open[holder] = self._open.get(holder, 0) + 1
        self._counted = True
        if refused:
            self.websocket_handler.close(1008, refused[:120])
            closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            closed.set_result(None)  # the handler awaits what connect returns
            return closed
        return super().connect()

    def disconnect(self) -> None:  # type: ignore[override]
        if self.__dict__.pop("_counted", False):
            for holder in self._holders:
                self._open[holder] -= 1
                if not self._open[holder]:
                    del self._open[holder]
        super().disconnect()

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        self._note_request(incoming_msg, self.subprotocol)
        super().handle_incoming_message(incoming_msg)

    def _limit_rate(self, channel: Any, msg: dict[str, Any], msg_list: list[Any]) -> bool:
        if channel == "iopub" and self.max_output_bytes:
            msg["header"] = self.get_part("header", msg["header"], msg_list)
            kind = msg["header"].get("msg_type")
            parent = self.get_part("parent_header", msg["parent_header"], msg_list)
            idle = False
            if kind == "status":
                msg["content"] = self.get_part("content", msg["content"], msg_list)
                idle = msg["content"].get("execution_state") == "idle"
            if self._past_cap(kind, parent, sum(len(part) for part in msg_list), idle):
                return True
        result: bool = super()._limit_rate(channel, msg, msg_list)
        return result

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        self.write_stderr(text, parent)


class PublicGatewayWebsocketConnection(OutputCap, NoDelayGatewayWebsocketConnection):
    """A visitor's connection to a gateway's kernel (JSON text frames): the same output cap and
    activity as :class:`PublicWebsocketConnection` (the WebSocket cap is not applied here)."""

    def handle_incoming_message(self, message: str) -> None:
        self._note_request(message, None)
        super().handle_incoming_message(message)

    def handle_outgoing_message(self, incoming_msg: str, *args: Any) -> None:
        if self.max_output_bytes:
            try:
                msg = json.loads(incoming_msg)
                kind = msg["header"]["msg_type"]
                parent = msg["parent_header"]
                idle = kind == "status" and msg["content"].get("execution_state") == "idle"
            except (ValueError, KeyError, TypeError, AttributeError):
                pass  # not a kernel message: passed on as it is
            else:
                if msg.get("channel") == "iopub" and self._past_cap(
                    kind, parent, len(incoming_msg), idle
                ):
                    return
        super().handle_outgoing_message(incoming_msg, *args)

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        note = Session(key=b"").msg("stream", {"name": "stderr", "text": text}, parent=parent)
        note["channel"] = "iopub"
        super().handle_outgoing_message(json.dumps(note, default=json_default))


def _incoming_header(message: Any, subprotocol: str | None) -> dict[str, Any] | None:
    """The header of a message a visitor sent on shell or control, else None (malformed
    messages are jupyter_server's to refuse)."""
    try:
        if subprotocol == "v1.kernel.websocket.jupyter.org":
            channel, parts = deserialize_msg_from_ws_v1(message)
            header = json.loads(parts[0])
        else:
            if isinstance(message, bytes):
                return None  # the legacy binary framing: buffers, never a request
            decoded = json.loads(message)
            channel, header = decoded.get("channel"), decoded.get("header")
    except (ValueError, TypeError, IndexError, AttributeError, KeyError):
        return None
    if channel not in ("shell", "control") or not isinstance(header, dict):
        return None
    return header
