import assert from "node:assert/strict";
import { test } from "node:test";

import * as api from "../src/index";

test("the JS API imports without starting a page (Node has no document to start it on)", () => {
  assert.deepEqual(Object.keys(api).sort(), ["BinderRuntime", "JupyterRuntime", "PyodideRuntime", "main"]);
  assert.equal(typeof api.main, "function");
  assert.equal("document" in globalThis, false);
});
