import assert from "node:assert/strict";
import { test } from "node:test";

import { type BackboneModel, esmProblem, invoker, modelProxy, satisfies, widgetOf } from "../src/afm";

test("a kernel's npm version range is matched as npm does", () => {
  const cases: [string, string, boolean][] = [
    ["^0.12", "0.12.0", true],
    ["^0.12", "0.12.9", true],
    ["^0.12", "0.13.0", false],
    ["^0.12", "0.11.9", false],
    ["~0.11.*", "0.11.4", true],
    ["~0.11.*", "0.12.0", false],
    ["^1.2.3", "1.9.0", true],
    ["^1.2.3", "2.0.0", false],
    ["^1.2.3", "1.2.2", false],
    ["^0.0.3", "0.0.3", true],
    ["^0.0.3", "0.0.4", false],
    ["~1.2.3", "1.2.9", true],
    ["~1.2.3", "1.3.0", false],
    ["0.12.0", "0.12.0", true],
    ["0.12.0", "0.12.1", false],
    ["1.x", "1.5.2", true],
    ["1.x", "2.0.0", false],
    [">=1.2.0 <2", "1.9.9", true],
    [">=1.2.0 <2", "2.0.0", false],
    ["^2 || ^0.12", "0.12.0", true],
    ["*", "0.12.0", true],
    ["^0.12", "not a version", false],
  ];
  for (const [range, version, expected] of cases) assert.equal(satisfies(range, version), expected, `${range} ${version}`);
});

test("an _esm must be module text, not a URL or nothing", () => {
  assert.equal(esmProblem("export default {}"), null);
  assert.equal(esmProblem(""), "the widget has no _esm module");
  assert.equal(esmProblem(undefined), "the widget has no _esm module");
  assert.equal(esmProblem("https://cdn.example/w.js"), "an _esm that is a URL is not loaded here (only module text is run)");
});

test("a module's widget: a default object, a default function, or a bare render", async () => {
  const render = () => undefined;
  assert.equal((await widgetOf({ default: { render } })).render, render);
  assert.equal((await widgetOf({ default: async () => ({ render }) })).render, render);
  assert.deepEqual(await widgetOf({ render }), { render });
  await assert.rejects(widgetOf({}), { message: "the _esm module has no default export (export default { render })" });
  await assert.rejects(widgetOf({ default: { render: 3 } }), { message: "the _esm module's render is not a function" });
});

test("the model proxy registers every listener under its hook's context", () => {
  const calls: unknown[][] = [];
  const model: BackboneModel = {
    get: (name) => `value of ${name}`,
    set: (name, value) => calls.push(["set", name, value]),
    save_changes: () => calls.push(["save_changes"]),
    send: (content) => calls.push(["send", content]),
    on: (name, _callback, context) => calls.push(["on", name, context]),
    off: (name, callback, context) => calls.push(["off", name, callback, context]),
    widget_manager: "manager",
  };
  const context = {};
  const proxy = modelProxy(model, context);
  assert.deepEqual(Object.keys(proxy).sort(), ["get", "off", "on", "save_changes", "send", "set", "widget_manager"]);
  const listener = () => undefined;
  proxy.on("change:value", listener);
  proxy.on("msg:custom", listener);
  proxy.set("value", 4);
  proxy.save_changes();
  proxy.send({ hello: 1 });
  proxy.off();
  assert.equal(proxy.get("value"), "value of value");
  assert.deepEqual(calls, [
    ["on", "change:value", context],
    ["on", "msg:custom", context],
    ["set", "value", 4],
    ["save_changes"],
    ["send", { hello: 1 }],
    ["off", null, null, context],
  ]);
  assert.equal(calls[0][2], context);
});

test("invoke sends a command and resolves with its answer alone", async () => {
  const sent: Record<string, unknown>[] = [];
  const handlers = new Map<unknown, (content: unknown, buffers: unknown[]) => void>();
  const context = {};
  const model = {
    on: (_name: string, callback: never, given: object) => {
      assert.equal(given, context);
      handlers.set(callback, callback);
    },
    off: (_name: string | null, callback: never) => void handlers.delete(callback),
    send: (content: Record<string, unknown>) => void sent.push(content),
  } as unknown as BackboneModel;
  const answer = invoker(model, context)("double", 21);
  assert.deepEqual({ ...sent[0], id: "" }, { id: "", kind: "anywidget-command", name: "double", msg: 21 });
  for (const handler of handlers.values()) handler({ id: "another", kind: "anywidget-command-response", response: 0 }, []);
  for (const handler of [...handlers.values()]) handler({ id: sent[0].id, kind: "anywidget-command-response", response: 42 }, ["b"]);
  assert.deepEqual(await answer, [42, ["b"]]);
  assert.equal(handlers.size, 0);
  const controller = new AbortController();
  const late = invoker(model, context)("double", 1, { signal: controller.signal });
  controller.abort(new Error("no answer"));
  await assert.rejects(late, { message: "no answer" });
  assert.equal(handlers.size, 0);
});
