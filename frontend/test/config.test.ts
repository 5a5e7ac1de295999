import assert from "node:assert/strict";
import { test } from "node:test";

import { parseConfig } from "../src/config";
import { buildSpec } from "../src/runtimes/binder";
import { configuredChoice, runtimeLabel } from "../src/runtimes/factory";

test("a page's config is laid over the defaults", () => {
  const config = parseConfig(JSON.stringify({ runtime: "pyodide", runtimes: ["pyodide"], autoRun: false }));
  assert.equal(config.runtime, "pyodide");
  assert.deepEqual(config.runtimes, ["pyodide"]);
  assert.equal(config.autoRun, false);
  assert.equal(config.kernelName, "python3");
  assert.equal(config.sessionMaxAge, 86400);
  assert.deepEqual(config.math, { engine: "katex" });
});

test("a missing, broken or non-object config gives the defaults, and says so", (t) => {
  const errors = t.mock.method(console, "error", () => undefined);
  assert.equal(parseConfig(null).runtime, null);
  assert.equal(errors.mock.callCount(), 0);
  assert.equal(parseConfig("{nope").runtime, null);
  assert.equal(parseConfig("[1, 2]").runtime, null);
  assert.equal(parseConfig("null").staticUrl, "_livecells/");
  assert.deepEqual(
    errors.mock.calls.map((call) => call.arguments[0]),
    [
      "livecells: the page's #livecells-config is not valid JSON",
      "livecells: the page's #livecells-config is not a JSON object",
      "livecells: the page's #livecells-config is not a JSON object",
    ],
  );
});

test("the page's own runtime choice carries its kernel and settings; none when it has none", () => {
  const config = parseConfig(
    JSON.stringify({ runtime: "server", kernelName: "bash", server: { url: "http://h:8888/", token: "t" } }),
  );
  assert.deepEqual(configuredChoice(config), {
    runtime: "server",
    kernelName: "bash",
    server: { url: "http://h:8888/", token: "t" },
    binder: null,
  });
  assert.equal(configuredChoice(parseConfig("{}")), null);
});

test("Binder build specs are BinderHub's, for each provider", () => {
  assert.equal(buildSpec("owner/name", null, "github"), "github/owner/name/HEAD");
  assert.equal(buildSpec("https://github.com/owner/name.git", "v1.0", "github"), "github/owner/name/v1.0");
  assert.equal(buildSpec("owner/name/", "feature/x", "github"), "github/owner/name/feature%2Fx");
  assert.equal(buildSpec("https://gitlab.com/group/sub/proj.git", "main", "gitlab"), "gitlab/group%2Fsub%2Fproj/main");
  assert.equal(buildSpec("https://example.org/r.git", null, "git"), "git/https%3A%2F%2Fexample.org%2Fr.git/HEAD");
  assert.throws(() => buildSpec("not a repo", null, "github"), /not a GitHub repository: not a repo/);
});

test("a Binder page served by livecells serve names both runtimes, and others stay plain", () => {
  const served = parseConfig(JSON.stringify({ runtime: "livecells", runtimes: ["livecells", "server", "binder"], configured: "binder" }));
  assert.equal(runtimeLabel("livecells", served), "This site's server, for this preview (the site is configured for Binder)");
  assert.equal(runtimeLabel("binder", served), "Binder (the site's configured runtime)");
  assert.equal(runtimeLabel("server", served), "A Jupyter Server");
  const built = parseConfig(JSON.stringify({ runtime: "binder", runtimes: ["binder"] }));
  assert.equal(built.configured, null);
  assert.equal(runtimeLabel("binder", built), "Binder");
});
