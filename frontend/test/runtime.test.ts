import assert from "node:assert/strict";
import { test } from "node:test";

import { type JSONObject, type Message, newMessage } from "../src/protocol";
import { BaseRuntime } from "../src/runtimes/base";
import { executeRequest, UnavailableRuntime } from "../src/runtimes/runtime";

/** The shared part alone: what a runtime reports goes to whoever listens, until they stop. */
class Probe extends BaseRuntime {
  readonly name = "probe";
  report(status: "busy" | "idle", detail: string): void {
    this.setStatus(status, detail);
  }
  update(msg: Message): void {
    this.displayUpdate(msg);
  }
  async start(): Promise<void> {}
  execute(): never {
    throw new Error("not here");
  }
  async interrupt(): Promise<void> {}
  async restart(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

test("a runtime starts idle; its listeners hear each status until they unsubscribe", () => {
  const runtime = new Probe();
  assert.equal(runtime.status, "idle");
  const heard: string[] = [];
  const stop = runtime.onStatus((status, detail) => heard.push(`${status}:${detail}`));
  runtime.report("busy", "running");
  runtime.report("busy", "still");
  stop();
  runtime.report("idle", "");
  assert.deepEqual(heard, ["busy:running", "busy:still"]);
  assert.equal(runtime.status, "idle");
});

test("display updates go to every display listener until it unsubscribes", () => {
  const runtime = new Probe();
  const first: string[] = [];
  const second: string[] = [];
  const stop = runtime.onDisplayUpdate((msg) => first.push(msg.header.msg_type));
  runtime.onDisplayUpdate((msg) => second.push(msg.header.msg_type));
  runtime.update(newMessage("iopub", "update_display_data", {}, "kernel"));
  stop();
  runtime.update(newMessage("iopub", "update_display_data", {}, "kernel"));
  assert.deepEqual(first, ["update_display_data"]);
  assert.deepEqual(second, ["update_display_data", "update_display_data"]);
});

test("a runtime this build lacks says why, as an error status and a rejection", async () => {
  const runtime = new UnavailableRuntime("server", "no Jupyter Server named");
  const heard: string[] = [];
  runtime.onStatus((status, detail) => heard.push(`${status}:${detail}`));
  await assert.rejects(runtime.start(), { message: "no Jupyter Server named" });
  await assert.rejects(runtime.execute(), { message: "no Jupyter Server named" });
  assert.deepEqual(heard, ["error:no Jupyter Server named"]);
  assert.equal(runtime.status, "error");
});

test("an execute_request asks for stdin only when the cell can answer input()", () => {
  const plain = executeRequest("1 + 1", { onIOPub: () => undefined }, "s").content as JSONObject;
  assert.deepEqual(plain, { code: "1 + 1", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  const asking = executeRequest("input()", { onIOPub: () => undefined, onInput: async () => "", stopOnError: false }, "s");
  assert.equal(asking.header.msg_type, "execute_request");
  assert.equal(asking.channel, "shell");
  assert.equal(asking.content.allow_stdin, true);
  assert.equal(asking.content.stop_on_error, false);
});
