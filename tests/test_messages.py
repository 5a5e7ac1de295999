"""The message codecs round-trip every message and reject garbage with MessageError only."""

from __future__ import annotations

import contextlib
import itertools
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_binary_message,
    serialize_msg_to_ws_v1,
)

from livecells.errors import MessageError
from livecells.messages import JSONCodec, Message, V1Codec, codec_for, new_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    msg = new_message(
        draw(st.sampled_from(["execute_request", "stream", "comm_msg", "display_data"])),
        draw(json_objects),
        channel=draw(st.sampled_from(["shell", "iopub", "stdin", "control"])),
        session=draw(st.text(min_size=1, max_size=12)),
        metadata=draw(json_objects),
        buffers=draw(st.lists(st.binary(max_size=64), max_size=3)),
    )
    msg.parent_header = draw(st.just({}) | st.builds(lambda: {"msg_id": "p", "msg_type": "x"}))
    return msg


@given(messages())
def test_v1_codec_round_trips_messages_with_buffers(msg: Message) -> None:
    codec = V1Codec()
    assert codec.decode(codec.encode(msg)) == msg


@given(messages())
def test_json_codec_round_trips_messages_with_buffers(msg: Message) -> None:
    codec = JSONCodec()
    frame = codec.encode(msg)
    assert isinstance(frame, bytes) == bool(msg.buffers)
    assert codec.decode(frame) == msg


@given(messages())
def test_v1_frames_match_jupyter_server_framing(msg: Message) -> None:
    channel, parts = deserialize_msg_from_ws_v1(V1Codec().encode(msg))
    assert channel == msg.channel
    assert [json.loads(p) for p in parts[:4]] == [
        msg.header,
        msg.parent_header,
        msg.metadata,
        msg.content,
    ]
    assert [bytes(p) for p in parts[4:]] == msg.buffers
    parts = [_pack(msg.header), _pack(msg.parent_header), _pack(msg.metadata), _pack(msg.content)]
    server_frame = serialize_msg_to_ws_v1([*parts, *msg.buffers], msg.channel)
    assert V1Codec().decode(server_frame) == msg


@given(messages().filter(lambda m: bool(m.buffers)))
def test_legacy_binary_frames_match_jupyter_server(msg: Message) -> None:
    doc = deserialize_binary_message(JSONCodec().encode(msg))
    assert doc["content"] == msg.content
    assert [bytes(b) for b in doc["buffers"]] == msg.buffers
    server_frame = serialize_binary_message({**msg.to_dict(), "buffers": msg.buffers})
    assert JSONCodec().decode(server_frame).buffers == msg.buffers


def _pack(obj: object) -> bytes:
    return json.dumps(obj).encode()


@settings(max_examples=600)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_garbage_frames_raise_only_message_error(frame: bytes | str) -> None:
    for codec in (V1Codec(), JSONCodec()):
        with contextlib.suppress(MessageError):
            codec.decode(frame)


@given(messages(), st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=8))
def test_corrupted_v1_frames_raise_message_error_or_decode_faithfully(
    msg: Message, at: int, junk: bytes
) -> None:
    """Junk written into a frame either makes it invalid (MessageError) or leaves a frame whose
    every part still parses: then the decoded message is exactly what the parts say."""
    frame = bytearray(V1Codec().encode(msg))
    at = at % len(frame)
    frame[at : at + len(junk)] = junk
    try:
        decoded = V1Codec().decode(bytes(frame))
    except MessageError:
        return
    (count,) = struct.unpack("<Q", frame[:8])
    offsets = struct.unpack(f"<{count}Q", frame[8 : 8 * (count + 1)])
    parts = [bytes(frame[a:b]) for a, b in itertools.pairwise(offsets)]
    assert decoded.channel == parts[0].decode()
    assert decoded.header == json.loads(parts[1])
    assert decoded.parent_header == json.loads(parts[2])
    assert decoded.metadata == json.loads(parts[3])
    assert decoded.content == json.loads(parts[4])
    assert decoded.buffers == parts[5:]


@pytest.mark.parametrize("part", ["header", "parent_header", "metadata", "content"])
def test_a_v1_frame_with_a_corrupt_json_part_names_the_part(part: str) -> None:
    msg = new_message("execute_request", {"code": "1"}, session="s")
    frame = bytearray(V1Codec().encode(msg))
    index = ["header", "parent_header", "metadata", "content"].index(part) + 1
    (start,) = struct.unpack("<Q", frame[8 * (index + 1) : 8 * (index + 2)])
    frame[start] = ord("x")  # the part's opening brace
    with pytest.raises(MessageError, match=f"malformed message: {part} is not valid JSON"):
        V1Codec().decode(bytes(frame))


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", "shorter than its header"),
        (struct.pack("<Q", 2**40), "do not fit"),
        ("not json", "not valid JSON"),
        ('{"channel": "nowhere", "header": {"msg_type": "x"}}', "unknown channel"),
        ('{"channel": "shell", "header": {}}', "no msg_type"),
        ('{"channel": "shell", "header": {"msg_type": "x"}, "content": []}', "content must be"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_frames_say_what_is_wrong(frame: str | bytes, reason: str) -> None:
    codec = V1Codec() if isinstance(frame, bytes) else JSONCodec()
    with pytest.raises(MessageError, match=reason):
        codec.decode(frame)


def test_codec_for_selects_by_subprotocol() -> None:
    assert isinstance(codec_for("v1.kernel.websocket.jupyter.org"), V1Codec)
    assert isinstance(codec_for(None), JSONCodec)
    with pytest.raises(MessageError, match="unsupported"):
        codec_for("v2.unknown")


def test_binary_content_is_refused_with_a_hint() -> None:
    msg = new_message("comm_msg", {"data": b"raw"}, session="s")
    with pytest.raises(MessageError, match="binary data belongs in buffers, not in JSON"):
        V1Codec().encode(msg)
    with pytest.raises(MessageError, match="set is not JSON serialisable"):
        JSONCodec().encode(new_message("comm_msg", {"data": {1}}, session="s"))
