import assert from "node:assert/strict";
import { test } from "node:test";

import { newMessage } from "../src/protocol";
import { COMM_MESSAGES, commRequest, fromBase64, ownBuffers, refusal, toBase64 } from "../src/runtimes/pyodide/comms";

test("the worker hands Python the page's comm messages, and only those", () => {
  assert.deepEqual([...COMM_MESSAGES].sort(), ["comm_close", "comm_msg", "comm_open"]);
  assert.equal(COMM_MESSAGES.has("comm_info_request"), false);
});

test("Python gets a comm message's header, parent, metadata and content, not its buffers", () => {
  const msg = newMessage("shell", "comm_msg", { comm_id: "c1", data: { method: "update" } }, "s1");
  msg.metadata = { version: "2.1.0" };
  msg.buffers = [new ArrayBuffer(3)];
  const request = commRequest(msg);
  assert.deepEqual(Object.keys(request).sort(), ["content", "header", "metadata", "parent_header"]);
  assert.deepEqual(request.content, { comm_id: "c1", data: { method: "update" } });
  assert.deepEqual(request.metadata, { version: "2.1.0" });
  assert.equal((request.header as { msg_id: string }).msg_id, msg.header.msg_id);
});

test("a buffer is exactly the bytes of its view, even a view into a larger buffer", () => {
  const memory = new Uint8Array([9, 9, 1, 2, 3, 9]);
  const whole = new Uint8Array([4, 5]);
  const [part, own] = ownBuffers([memory.subarray(2, 5), whole]);
  assert.deepEqual([...new Uint8Array(part)], [1, 2, 3]);
  assert.equal(part.byteLength, 3);
  assert.equal(own, whole.buffer); // not copied when it is already whole
  assert.deepEqual(ownBuffers([]), []);
});

test("a comm message Python refused is one line: the error's last", () => {
  const error = new Error("Traceback (most recent call last):\n  File x\nValueError: bad comm\n");
  assert.equal(refusal("comm_msg", error), "comm_msg refused: ValueError: bad comm\n");
  assert.equal(refusal("comm_open", "Python is not running"), "comm_open refused: Python is not running\n");
  assert.equal(refusal("comm_close", new Error("")), "comm_close refused: unknown error\n");
});

test("the Node.js host's JSON lines carry buffers as base64, both ways", () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255]).buffer;
  const big = new Uint8Array(70_000).map((_, i) => i % 251).buffer;
  assert.deepEqual(toBase64([png]), ["iVBORwD/"]);
  const [back, bigBack] = fromBase64(toBase64([png, big]));
  assert.deepEqual([...new Uint8Array(back)], [0x89, 0x50, 0x4e, 0x47, 0, 255]);
  assert.deepEqual(new Uint8Array(bigBack), new Uint8Array(big));
  assert.deepEqual(fromBase64(undefined), []);
  assert.deepEqual(fromBase64([{}, 3]), []);
  assert.throws(() => fromBase64(["not base64!"]));
});
