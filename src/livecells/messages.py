"""The Jupyter message model and its WebSocket codecs.

Three wire formats carry kernel messages between a browser-style client and a Jupyter Server:

* **JSON text frames** (the legacy protocol): one JSON object with ``header``, ``parent_header``,
  ``metadata``, ``content`` and ``channel``.
* **Legacy binary frames**: the same JSON object plus raw buffers, as jupyter_server's
  ``serialize_binary_message``: a big-endian uint32 part count, uint32 offsets, then the parts.
* **v1 binary frames** (subprotocol ``v1.kernel.websocket.jupyter.org``): a little-endian uint64
  offset count, uint64 offsets, the channel name, then header, parent header, metadata and
  content as separate JSON documents, then the buffers.

Every decoder raises :class:`~livecells.errors.MessageError`, and only that, for malformed input.
"""

from __future__ import annotations

import itertools
import json
import struct
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from livecells.errors import MessageError

__all__ = [
    "PROTOCOL_VERSION",
    "V1_SUBPROTOCOL",
    "Codec",
    "JSONCodec",
    "Message",
    "V1Codec",
    "codec_for",
    "new_message",
]

PROTOCOL_VERSION = "5.4"
V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org"
CHANNELS = frozenset({"shell", "iopub", "stdin", "control", "hb"})

JSONDict = dict[str, Any]


@dataclass(slots=True)
class Message:
    """One Jupyter message, on one channel, with its binary buffers."""

    channel: str
    header: JSONDict
    parent_header: JSONDict = field(default_factory=dict)
    metadata: JSONDict = field(default_factory=dict)
    content: JSONDict = field(default_factory=dict)
    buffers: list[bytes] = field(default_factory=list)

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    @property
    def msg_id(self) -> str:
        return str(self.header.get("msg_id", ""))

    @property
    def parent_id(self) -> str | None:
        value = self.parent_header.get("msg_id")
        return str(value) if value else None

    def to_dict(self) -> JSONDict:
        """The message as the JSON-serialisable dict jupyter_client uses (buffers excluded)."""
        return {
            "channel": self.channel,
            "header": self.header,
            "parent_header": self.parent_header,
            "metadata": self.metadata,
            "content": self.content,
            "msg_id": self.msg_id,
            "msg_type": self.msg_type,
        }


def new_message(
    msg_type: str,
    content: JSONDict | None = None,
    *,
    channel: str = "shell",
    session: str,
    username: str = "livecells",
    parent: Message | None = None,
    metadata: JSONDict | None = None,
    buffers: list[bytes] | None = None,
) -> Message:
    """Build a new message with a fresh ``msg_id`` and the current protocol version."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": username,
        "session": session,
        "date": datetime.now(UTC).isoformat(),
        "version": PROTOCOL_VERSION,
    }
    return Message(
        channel=channel,
        header=header,
        parent_header=dict(parent.header) if parent else {},
        metadata=metadata or {},
        content=content or {},
        buffers=list(buffers or []),
    )


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        raise MessageError("cannot encode the message: binary data belongs in buffers, not in JSON")
    raise MessageError(
        f"cannot encode the message: {type(value).__name__} is not JSON serialisable"
    )


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _object(value: object, what: str) -> JSONDict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MessageError(f"malformed message: {what} must be a JSON object")
    return value


def _from_parts(
    channel: object, header: object, parent: object, metadata: object, content: object
) -> Message:
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise MessageError(f"malformed message: unknown channel {channel!r}")
    head = _object(header, "header")
    if not isinstance(head.get("msg_type"), str):
        raise MessageError("malformed message: header has no msg_type")
    return Message(
        channel=channel,
        header=head,
        parent_header=_object(parent, "parent_header"),
        metadata=_object(metadata, "metadata"),
        content=_object(content, "content"),
    )


def _loads(data: bytes | str, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise MessageError(f"malformed message: {what} is not valid JSON ({exc})") from None


class Codec(Protocol):
    """Encodes messages to WebSocket frames and back."""

    subprotocol: str | None

    def encode(self, msg: Message) -> str | bytes: ...

    def decode(self, frame: str | bytes) -> Message: ...


class JSONCodec:
    """The legacy protocol: JSON text frames, or the binary variant when buffers are attached."""

    subprotocol: str | None = None

    def encode(self, msg: Message) -> str | bytes:
        doc = msg.to_dict()
        if not msg.buffers:
            return _dumps(doc)
        parts = [_dumps(doc).encode(), *(bytes(b) for b in msg.buffers)]
        offsets = [4 * (len(parts) + 1)]
        for part in parts[:-1]:
            offsets.append(offsets[-1] + len(part))
        return struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets) + b"".join(parts)

    def decode(self, frame: str | bytes) -> Message:
        if isinstance(frame, str):
            doc = _loads(frame, "frame")
            buffers: list[bytes] = []
        else:
            doc, buffers = self._split_binary(frame)
        if not isinstance(doc, dict):
            raise MessageError("malformed message: frame is not a JSON object")
        msg = _from_parts(
            doc.get("channel"),
            doc.get("header"),
            doc.get("parent_header"),
            doc.get("metadata"),
            doc.get("content"),
        )
        msg.buffers = buffers
        return msg

    @staticmethod
    def _split_binary(frame: bytes) -> tuple[Any, list[bytes]]:
        if len(frame) < 8:
            raise MessageError("malformed binary message: shorter than its header")
        (count,) = struct.unpack("!I", frame[:4])
        header_end = 4 * (count + 1)
        if count < 1 or header_end > len(frame):
            raise MessageError(f"malformed binary message: {count} parts do not fit the frame")
        offsets = [*struct.unpack(f"!{count}I", frame[4:header_end]), len(frame)]
        if offsets[0] != header_end or any(a > b for a, b in itertools.pairwise(offsets)):
            raise MessageError("malformed binary message: offsets out of order or out of range")
        parts = [frame[a:b] for a, b in itertools.pairwise(offsets)]
        return _loads(parts[0], "message"), parts[1:]


class V1Codec:
    """The ``v1.kernel.websocket.jupyter.org`` binary framing used by jupyter_server >= 2."""

    subprotocol: str | None = V1_SUBPROTOCOL

    def encode(self, msg: Message) -> bytes:
        parts = [
            msg.channel.encode(),
            _dumps(msg.header).encode(),
            _dumps(msg.parent_header).encode(),
            _dumps(msg.metadata).encode(),
            _dumps(msg.content).encode(),
            *(bytes(b) for b in msg.buffers),
        ]
        count = len(parts) + 1
        offsets = [8 * (count + 1)]
        for part in parts:
            offsets.append(offsets[-1] + len(part))
        return struct.pack(f"<{count + 1}Q", count, *offsets) + b"".join(parts)

    def decode(self, frame: str | bytes) -> Message:
        if isinstance(frame, str):
            raise MessageError("malformed v1 message: expected a binary frame, got text")
        if len(frame) < 8:
            raise MessageError("malformed v1 message: shorter than its header")
        (count,) = struct.unpack("<Q", frame[:8])
        header_end = 8 * (count + 1)
        if count < 6 or header_end > len(frame):
            raise MessageError(f"malformed v1 message: {count} offsets do not fit the frame")
        offsets = struct.unpack(f"<{count}Q", frame[8:header_end])
        if (
            offsets[0] != header_end
            or offsets[-1] != len(frame)
            or any(a > b for a, b in itertools.pairwise(offsets))
        ):
            raise MessageError("malformed v1 message: offsets out of order or out of range")
        parts = [frame[a:b] for a, b in itertools.pairwise(offsets)]
        try:
            channel = parts[0].decode()
        except UnicodeDecodeError:
            raise MessageError("malformed v1 message: channel is not UTF-8") from None
        header, parent, metadata, content = (
            _loads(part, name)
            for part, name in zip(parts[1:5], ("header", "parent_header", "metadata", "content"))
        )
        msg = _from_parts(channel, header, parent, metadata, content)
        msg.buffers = [bytes(b) for b in parts[5:]]
        return msg


def codec_for(subprotocol: str | None) -> Codec:
    """The codec for the subprotocol a server selected (``None``/empty: the legacy protocol)."""
    if subprotocol == V1_SUBPROTOCOL:
        return V1Codec()
    if not subprotocol:
        return JSONCodec()
    raise MessageError(f"unsupported kernel WebSocket subprotocol {subprotocol!r}")
