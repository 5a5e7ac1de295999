import assert from "node:assert/strict";
import { test } from "node:test";

import { completionRange, inspectText, wantsCompletion } from "../src/help";

const ok = (matches: unknown, start: unknown, end: unknown) => ({ status: "ok", matches, cursor_start: start, cursor_end: end, metadata: {} });

test("Tab completes after a (dotted) name, and indents elsewhere", () => {
  assert.equal(wantsCompletion("x = os.path.jo"), true);
  assert.equal(wantsCompletion("pri"), true);
  assert.equal(wantsCompletion("    "), false);
  assert.equal(wantsCompletion(""), false);
  assert.equal(wantsCompletion("x = 12"), false);
  assert.equal(wantsCompletion("f(1, "), false);
});

test("a kernel replacing the last name is shown as it is (jedi)", () => {
  const code = "os.path.jo";
  assert.deepEqual(completionRange(code, 10, ok(["join"], 8, 10)), { from: 8, to: 10, labels: ["join"] });
});

test("a kernel replacing the whole dotted name is shown by its last part (rlcompleter)", () => {
  const code = "x = os.path.jo";
  assert.deepEqual(completionRange(code, 14, ok(["os.path.join", "os.path.join"], 4, 14)), { from: 12, to: 14, labels: ["join"] });
});

test("a reply that is not a completion gives none", () => {
  const code = "abc";
  assert.equal(completionRange(code, 3, ok([], 0, 3)), null);
  assert.equal(completionRange(code, 3, ok(["abcd"], 2, 1)), null);
  assert.equal(completionRange(code, 3, ok(["abcd"], -1, 3)), null);
  assert.equal(completionRange(code, 3, ok(["abcd"], 0, 9)), null);
  assert.equal(completionRange(code, 3, ok(["abcd", 4], 0, 3)), null);
  assert.equal(completionRange(code, 3, ok("abcd", 0, 3)), null);
  assert.equal(completionRange(code, 3, ok(["abcd"], "0", 3)), null);
  assert.equal(completionRange(code, 3, { ...ok(["abcd"], 0, 3), status: "error" }), null);
});

test("documentation is the plain text of text/plain, without terminal colours", () => {
  const reply = { status: "ok", found: true, data: { "text/plain": "\x1b[0;31mSignature:\x1b[0m len(obj, /)\n" }, metadata: {} };
  assert.equal(inspectText(reply), "Signature: len(obj, /)");
  assert.equal(inspectText({ status: "ok", found: false, data: {} }), null);
  assert.equal(inspectText({ status: "ok", found: true, data: { "text/html": "<b>x</b>" } }), null);
  assert.equal(inspectText({ status: "ok", found: true, data: { "text/plain": "x".repeat(5000) } })?.length, 4000);
});
