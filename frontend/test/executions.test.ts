import assert from "node:assert/strict";
import { test } from "node:test";

import { type Channel, type JSONObject, type Message, newMessage } from "../src/protocol";
import { Executions } from "../src/runtimes/executions";
import type { ExecuteCallbacks } from "../src/runtimes/runtime";

/** A kernel's message in answer to the request `parent`. */
function answer(parent: string, channel: Channel, type: string, content: JSONObject = {}): Message {
  return newMessage(channel, type, content, "kernel", { msg_id: parent });
}
const idle = (parent: string) => answer(parent, "iopub", "status", { execution_state: "idle" });
const busy = (parent: string) => answer(parent, "iopub", "status", { execution_state: "busy" });
const reply = (parent: string, status = "ok", count: number | null = 1) =>
  answer(parent, "shell", "execute_reply", { status, execution_count: count });

function recorder(): ExecuteCallbacks & { seen: string[] } {
  const seen: string[] = [];
  return { seen, onIOPub: (msg) => seen.push(`${msg.header.msg_type}:${String(msg.content.text ?? "")}`) };
}

/** Whether a promise has settled yet (after pending microtasks). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test("an execution completes on execute_reply then idle, once", async () => {
  let completed = 0;
  const executions = new Executions(() => completed++);
  const done = executions.add("a", recorder());
  assert.equal(executions.receive(busy("a")), true);
  executions.receive(reply("a", "ok", 3));
  assert.equal(await settled(done), false);
  executions.receive(idle("a"));
  assert.deepEqual(await done, { status: "ok", executionCount: 3, content: { status: "ok", execution_count: 3 } });
  executions.receive(idle("a"));
  executions.receive(reply("a"));
  assert.equal(completed, 1);
  assert.equal(executions.size, 0);
});

test("an execution completes on idle then execute_reply, once", async () => {
  let completed = 0;
  const executions = new Executions(() => completed++);
  const done = executions.add("a", recorder());
  executions.receive(idle("a"));
  assert.equal(await settled(done), false);
  executions.receive(reply("a", "error", 2));
  assert.equal((await done).status, "error");
  assert.equal(completed, 1);
});

test("an execute_reply's status is ok, aborted or error, its count a number or null", async () => {
  const executions = new Executions();
  for (const [status, expected] of [["ok", "ok"], ["aborted", "aborted"], ["error", "error"], ["strange", "error"]]) {
    const done = executions.add(status, recorder());
    executions.receive(answer(status, "shell", "execute_reply", { status }));
    executions.receive(idle(status));
    const result = await done;
    assert.equal(result.status, expected);
    assert.equal(result.executionCount, null);
  }
});

test("outputs go to the execution their parent msg_id names, statuses to none", async () => {
  const executions = new Executions();
  const first = recorder();
  const second = recorder();
  const a = executions.add("a", first);
  const b = executions.add("b", second);
  executions.receive(busy("a"));
  executions.receive(answer("a", "iopub", "stream", { name: "stdout", text: "one" }));
  executions.receive(answer("b", "iopub", "stream", { name: "stdout", text: "two" }));
  executions.receive(answer("a", "iopub", "display_data", { data: {} }));
  executions.receive(reply("a"));
  executions.receive(idle("a"));
  await a;
  assert.deepEqual(first.seen, ["stream:one", "display_data:"]);
  assert.deepEqual(second.seen, ["stream:two"]);
  assert.equal(await settled(b), false);
  assert.equal(executions.size, 1);
});

test("a failure rejects every waiting execution with its message", async () => {
  const executions = new Executions();
  const waiting = [executions.add("a", recorder()), executions.add("b", recorder())];
  const failed = Promise.all(waiting.map((done) => assert.rejects(done, { message: "the kernel died" })));
  executions.receive(reply("a"));
  executions.failAll(new Error("the kernel died"));
  await failed;
  assert.equal(executions.size, 0);
  assert.equal(executions.receive(idle("a")), false);
});

test("an execution whose request could not be sent fails alone", async () => {
  const executions = new Executions();
  const a = executions.add("a", recorder());
  const b = executions.add("b", recorder());
  const failed = assert.rejects(a, { message: "not connected to the kernel" });
  executions.cancel("a", new Error("not connected to the kernel"));
  await failed;
  assert.equal(await settled(b), false);
  assert.equal(executions.size, 1);
});

test("a message for an unknown parent, or none, is left alone", () => {
  const callbacks = recorder();
  const executions = new Executions(() => assert.fail("nothing completes"));
  void executions.add("a", callbacks);
  assert.equal(executions.receive(answer("other", "iopub", "stream", { text: "x" })), false);
  assert.equal(executions.receive(reply("other")), false);
  assert.equal(executions.receive(idle("other")), false);
  assert.equal(executions.receive(newMessage("iopub", "status", { execution_state: "idle" }, "kernel")), false);
  assert.deepEqual(callbacks.seen, []);
  assert.equal(executions.callbacks("other"), undefined);
  assert.equal(executions.callbacks("a"), callbacks);
});
