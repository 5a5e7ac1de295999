import assert from "node:assert/strict";
import { test } from "node:test";

import { folder, withTimeout } from "../src/runtimes/pyodide/boot";
import { answerInput, INPUT_HEADER_BYTES, waitForInput } from "../src/runtimes/pyodide/buffers";
import { lockFiles, lockKey, type LockPackages } from "../src/runtimes/pyodide/packages";
import { emptyReply, kernelInfo } from "../src/runtimes/pyodide/replies";

test("requirements are keyed as lock files key them (PEP 503 names, no version or extras)", () => {
  assert.equal(lockKey("Scikit_Learn>=1.0"), "scikit-learn");
  assert.equal(lockKey("zope.interface"), "zope-interface");
  assert.equal(lockKey("requests[socks] ; python_version>'3'"), "requests");
  assert.equal(lockKey("numpy"), "numpy");
});

test("a lock file gives the files of the packages and of all they depend on, once each", () => {
  const lock: LockPackages = {
    pandas: { file_name: "pandas.whl", depends: ["numpy", "python-dateutil"] },
    numpy: { file_name: "numpy.whl", depends: [] },
    "python-dateutil": { file_name: "dateutil.whl", depends: ["six"] },
    six: { file_name: "six.whl", depends: [] },
  };
  assert.deepEqual(lockFiles(lock, ["Pandas", "numpy"]), ["pandas.whl", "numpy.whl", "dateutil.whl", "six.whl"]);
  assert.deepEqual(lockFiles(lock, []), []);
  assert.equal(lockFiles(lock, ["pandas", "polars"]), null);
  assert.equal(lockFiles({ a: { file_name: "a.whl", depends: ["missing"] } }, ["a"]), null);
});

test("index URLs are folders", () => {
  assert.equal(folder("https://cdn.example/pyodide"), "https://cdn.example/pyodide/");
  assert.equal(folder("/static/pyodide/"), "/static/pyodide/");
});

test("a load that takes too long is given up, with what it was", async () => {
  const never = new Promise<never>(() => undefined);
  await assert.rejects(withTimeout(never, 10, "loading Pyodide from x/"), { message: "loading Pyodide from x/ took longer than 10 ms" });
  assert.equal(await withTimeout(Promise.resolve(1), 10, "quick"), 1);
  assert.equal(await withTimeout(Promise.resolve(2), 0, "no limit"), 2);
  await assert.rejects(withTimeout(Promise.reject("plain"), 10, "failing"), { message: "plain" });
});

test("input() gets the host's answer through the shared buffer, UTF-8 and all", () => {
  const buffer = new SharedArrayBuffer(INPUT_HEADER_BYTES + 64);
  let asked = 0;
  const value = waitForInput(buffer, null, () => {
    asked++;
    answerInput(buffer, "héllo wörld");
  });
  assert.equal(value, "héllo wörld");
  assert.equal(asked, 1);
  // An answer longer than the buffer is cut to fit.
  assert.equal(waitForInput(buffer, null, () => answerInput(buffer, "x".repeat(100))), "x".repeat(64));
});

test("input() gives null when the host interrupts, or when Python's interrupt flag is raised", () => {
  const buffer = new SharedArrayBuffer(INPUT_HEADER_BYTES + 16);
  assert.equal(waitForInput(buffer, null, () => answerInput(buffer, null)), null);
  const interrupt = new Int32Array(new SharedArrayBuffer(4));
  interrupt[0] = 2;
  assert.equal(waitForInput(buffer, interrupt, () => undefined), null);
  assert.equal(interrupt[0], 0); // the kernel raises the KeyboardInterrupt itself, once
});

test("kernel_info names Python and Pyodide; other requests are answered empty", () => {
  const info = kernelInfo("3.13.2", "0.29.3");
  assert.equal(info.implementation, "livecells-pyodide");
  assert.equal(info.implementation_version, "0.29.3");
  assert.equal((info.language_info as { version: string }).version, "3.13.2");
  assert.equal(info.banner, "Python 3.13.2 (Pyodide 0.29.3) in livecells");
  assert.deepEqual(emptyReply("complete_request"), { status: "ok", matches: [], cursor_start: 0, cursor_end: 0, metadata: {} });
  assert.deepEqual(emptyReply("is_complete_request"), { status: "unknown" });
  assert.deepEqual(emptyReply("history_request"), { status: "ok", history: [] });
  assert.deepEqual(emptyReply("whatever_request"), { status: "ok" });
});
