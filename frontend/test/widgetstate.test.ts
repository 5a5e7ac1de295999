import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_MODELS, checkBuffers, checkCommMessage, parseSavedState, readSavedState, viewModelId } from "../src/widgetstate";

const slider = {
  model_name: "IntSliderModel",
  model_module: "@jupyter-widgets/controls",
  model_module_version: "2.0.0",
  state: { value: 4, max: 9 },
};

test("a saved state keeps its well-formed models and names the others", () => {
  const parsed = parseSavedState({
    version_major: 2,
    version_minor: 0,
    state: {
      good: slider,
      nameless: { ...slider, model_name: 3 },
      "<script>": slider,
      stateless: { ...slider, state: [] },
    },
  });
  assert.ok("state" in parsed);
  assert.deepEqual(Object.keys(parsed.state.state), ["good"]);
  assert.deepEqual(parsed.problems, [
    "saved widget model nameless: no model_name",
    'saved widget model "<script>": not a valid model id',
    "saved widget model stateless: no state",
  ]);
});

test("saved buffers must name a path and carry base64 or hex", () => {
  const withBuffer = (buffer: unknown) =>
    parseSavedState({ version_major: 2, state: { image: { ...slider, buffers: [buffer] } } });
  const good = withBuffer({ path: ["value"], data: "iVBORw0KGgo=", encoding: "base64" });
  assert.ok("state" in good);
  assert.deepEqual(good.state.state.image.buffers, [{ path: ["value"], data: "iVBORw0KGgo=", encoding: "base64" }]);
  assert.deepEqual(good.problems, []);
  const cases: [unknown, string][] = [
    [{ path: "value", data: "", encoding: "base64" }, "a buffer without a valid path"],
    [{ path: ["value"], data: "zz", encoding: "hex" }, "a buffer whose data is not hex"],
    [{ path: ["value"], data: "a b", encoding: "base64" }, "a buffer whose data is not base64"],
    [{ path: ["value"], data: "00", encoding: "utf8" }, 'a buffer of unknown encoding "utf8"'],
  ];
  for (const [buffer, problem] of cases) {
    const parsed = withBuffer(buffer);
    assert.ok("state" in parsed);
    assert.deepEqual(parsed.state.state, {});
    assert.deepEqual(parsed.problems, [`saved widget model image: ${problem}`]);
  }
});

test("a state that is not one is one error", () => {
  assert.deepEqual(readSavedState("{"), { error: "the saved widget state is not JSON" });
  assert.deepEqual(readSavedState("[]"), { error: "the saved widget state is not an object" });
  assert.deepEqual(readSavedState('{"version_major": 1, "state": {}}'), {
    error: "the saved widget state has version 1 (this page reads version 2: ipywidgets 8)",
  });
  assert.deepEqual(readSavedState('{"version_major": 2}'), { error: "the saved widget state has no models" });
  const many = Object.fromEntries(Array.from({ length: MAX_MODELS + 1 }, (_, i) => [`m${i}`, slider]));
  assert.deepEqual(parseSavedState({ version_major: 2, state: many }), {
    error: `the saved widget state has ${MAX_MODELS + 1} models (at most ${MAX_MODELS})`,
  });
});

test("a widget view names a valid model of protocol 2", () => {
  assert.deepEqual(viewModelId({ version_major: 2, version_minor: 0, model_id: "abc123" }), { modelId: "abc123" });
  assert.deepEqual(viewModelId({ model_id: "<img onerror=x>" }), { error: "a widget view output without a valid model_id" });
  assert.deepEqual(viewModelId({ version_major: 1, model_id: "abc" }), {
    error: "a widget view of protocol version 1 (this page speaks version 2: ipywidgets 8)",
  });
  assert.deepEqual(viewModelId("abc"), { error: "a widget view output that is not an object" });
});

test("comm messages are checked before the manager sees them", () => {
  assert.equal(checkCommMessage("comm_msg", { comm_id: "a1", data: { method: "update" } }), null);
  assert.equal(checkCommMessage("comm_msg", { comm_id: "a1" }), "a comm_msg for a1 without data");
  assert.equal(checkCommMessage("comm_close", { comm_id: 7 }), "a comm_close without a valid comm_id");
  assert.equal(checkCommMessage("comm_open", { comm_id: "a1" }), "a comm_open without a target_name");
  assert.equal(
    checkCommMessage("comm_open", { comm_id: "a1", target_name: "jupyter.widget", data: { state: {} } }),
    "a widget comm_open (a1) without a model state",
  );
  assert.equal(checkCommMessage("comm_open", { comm_id: "a1", target_name: "other", data: {} }), null);
});

test("buffer paths need as many buffers", () => {
  const buffer = new ArrayBuffer(4);
  assert.equal(checkBuffers({ buffer_paths: [["value"]] }, [buffer]), null);
  assert.equal(checkBuffers({ state: {} }, []), null);
  assert.equal(checkBuffers({ buffer_paths: [["value"], ["other"]] }, [buffer]), "2 buffer paths but 1 buffers");
  assert.equal(checkBuffers({ buffer_paths: "value" }, [buffer]), "buffer_paths that are not a list");
});
