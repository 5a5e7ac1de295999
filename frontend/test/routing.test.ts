import assert from "node:assert/strict";
import { test } from "node:test";

import { type Message, newMessage } from "../src/protocol";
import { BaseRuntime } from "../src/runtimes/base";

/** A runtime whose received messages are routed as a kernel connection's are. */
class Router extends BaseRuntime {
  readonly name = "router";
  readonly dispatched: string[] = [];
  receive(msg: Message): void {
    this.route(msg, (next) => this.dispatched.push(label(next)));
  }
  async start(): Promise<void> {}
  execute(): never {
    throw new Error("not here");
  }
  async interrupt(): Promise<void> {}
  async restart(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function message(type: string, text: string): Message {
  return newMessage("iopub", type, { text }, "s");
}

function label(msg: Message): string {
  return `${msg.header.msg_type}:${String(msg.content.text)}`;
}

test("a hook takes the messages it answers true for; status messages go on regardless", () => {
  const runtime = new Router();
  const seen: string[] = [];
  runtime.onMessage((msg) => {
    seen.push(label(msg));
    return msg.header.msg_type !== "stream";
  });
  runtime.receive(message("comm_msg", "a"));
  runtime.receive(message("stream", "b"));
  runtime.receive(message("status", "c"));
  assert.deepEqual(seen, ["comm_msg:a", "stream:b", "status:c"]);
  assert.deepEqual(runtime.dispatched, ["stream:b", "status:c"]);
});

test("a hook's promise holds every later message, which then keep their order", async () => {
  const runtime = new Router();
  let release: (taken: boolean) => void = () => undefined;
  runtime.onMessage((msg) =>
    msg.header.msg_type === "comm_open" ? new Promise<boolean>((resolve) => (release = resolve)) : false,
  );
  runtime.receive(message("comm_open", "model"));
  runtime.receive(message("stream", "one"));
  runtime.receive(newMessage("shell", "execute_reply", { text: "two" }, "s"));
  assert.deepEqual(runtime.dispatched, []);
  release(false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(runtime.dispatched, ["comm_open:model", "stream:one", "execute_reply:two"]);
  runtime.receive(message("stream", "three"));
  assert.deepEqual(runtime.dispatched.at(-1), "stream:three");
});

test("a removed hook sees nothing more", () => {
  const runtime = new Router();
  const seen: string[] = [];
  const off = runtime.onMessage((msg) => {
    seen.push(label(msg));
    return true;
  });
  runtime.receive(message("stream", "a"));
  off();
  runtime.receive(message("stream", "b"));
  assert.deepEqual(seen, ["stream:a"]);
  assert.deepEqual(runtime.dispatched, ["stream:b"]);
});
