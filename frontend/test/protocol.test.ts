import assert from "node:assert/strict";
import { test } from "node:test";

import {
  decodeJSON,
  decodeLegacyBinary,
  decodeV1,
  encodeJSON,
  encodeV1,
  type Message,
  newMessage,
} from "../src/protocol";

function sample(buffers: ArrayBuffer[] = []): Message {
  const msg = newMessage("shell", "execute_request", { code: "print('é')" }, "session-1", { msg_id: "p" });
  msg.metadata = { cellId: "c1" };
  msg.buffers = buffers;
  return msg;
}

test("a v1 frame decodes to the message it was encoded from, buffers included", () => {
  const buffer = new Uint8Array([0, 1, 2, 255]).buffer;
  const msg = sample([buffer, new ArrayBuffer(0)]);
  const back = decodeV1(encodeV1(msg));
  assert.equal(back.channel, "shell");
  assert.deepEqual(back.header, msg.header);
  assert.deepEqual(back.parent_header, { msg_id: "p" });
  assert.deepEqual(back.metadata, { cellId: "c1" });
  assert.deepEqual(back.content, { code: "print('é')" });
  assert.deepEqual(back.buffers.map((b) => [...new Uint8Array(b)]), [[0, 1, 2, 255], []]);
});

test("a v1 frame's layout is jupyter_server's: uint64 LE count, offsets, then the parts", () => {
  const frame = new DataView(encodeV1(sample()));
  assert.equal(frame.getBigUint64(0, true), 6n); // 5 parts, 6 offsets
  const first = Number(frame.getBigUint64(8, true));
  assert.equal(first, 8 * 7);
  assert.equal(new TextDecoder().decode(new Uint8Array(frame.buffer, first, 5)), "shell");
  assert.equal(Number(frame.getBigUint64(8 * 6, true)), frame.byteLength);
});

test("a v1 frame too short, with too few parts or with corrupt JSON is refused", () => {
  assert.throws(() => decodeV1(new ArrayBuffer(4)), /too short/);
  const few = new DataView(new ArrayBuffer(16));
  few.setBigUint64(0, 1n, true);
  assert.throws(() => decodeV1(few.buffer), /malformed v1 message/);
  const good = new Uint8Array(encodeV1(sample()));
  const view = new DataView(good.buffer);
  const contentAt = Number(view.getBigUint64(8 * 5, true));
  good[contentAt] = "x".charCodeAt(0); // content JSON now starts with x
  assert.throws(() => decodeV1(good.buffer), SyntaxError);
});

test("a v1 frame whose offsets point past its end is refused", () => {
  const frame = new Uint8Array(encodeV1(sample()));
  new DataView(frame.buffer).setBigUint64(8 * 5, BigInt(frame.byteLength + 100), true);
  assert.throws(() => decodeV1(frame.buffer));
});

test("JSON framing round-trips and fills in what old servers leave out", () => {
  const msg = sample();
  const back = decodeJSON(encodeJSON(msg));
  assert.deepEqual({ ...back, buffers: [] }, { ...msg, buffers: [] });
  const bare = decodeJSON(JSON.stringify({ channel: "iopub", header: { msg_type: "status" } }));
  assert.deepEqual([bare.parent_header, bare.metadata, bare.content, bare.buffers], [{}, {}, {}, []]);
  assert.throws(() => decodeJSON("{not json"), SyntaxError);
});

test("legacy binary frames (uint32 BE offsets, JSON then buffers) decode with their buffers", () => {
  const json = new TextEncoder().encode(encodeJSON(sample()));
  const payload = new Uint8Array([7, 8, 9]);
  const headerSize = 4 * 3;
  const frame = new Uint8Array(headerSize + json.byteLength + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 2);
  view.setUint32(4, headerSize);
  view.setUint32(8, headerSize + json.byteLength);
  frame.set(json, headerSize);
  frame.set(payload, headerSize + json.byteLength);
  const msg = decodeLegacyBinary(frame.buffer);
  assert.deepEqual(msg.content, { code: "print('é')" });
  assert.deepEqual(msg.buffers.map((b) => [...new Uint8Array(b)]), [[7, 8, 9]]);
});

test("new messages carry protocol 5.3, a fresh id and the session", () => {
  const a = newMessage("control", "interrupt_request", {}, "s");
  const b = newMessage("control", "interrupt_request", {}, "s");
  assert.equal(a.header.version, "5.3");
  assert.equal(a.header.session, "s");
  assert.equal(a.header.msg_type, "interrupt_request");
  assert.notEqual(a.header.msg_id, b.header.msg_id);
  assert.match(a.header.msg_id, /^[0-9a-f-]{36}$/);
});
