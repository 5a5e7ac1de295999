// Unit tests of the client's pure logic: each test/*.test.ts is bundled by esbuild (as the
// client is) into .test-build/ and run by Node's own test runner.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", ".test-build");
rmSync(out, { recursive: true, force: true });
const tests = readdirSync(here).filter((name) => name.endsWith(".test.ts"));
await build({
  entryPoints: tests.map((name) => join(here, name)),
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node18",
  outExtension: { ".js": ".mjs" },
  loader: { ".py": "text", ".svg": "text", ".css": "empty" },
  define: { "process.env.NODE_ENV": '"production"' },
  // The widgets' stylesheet (bundled by build.mjs for the client) is not what a unit test checks.
  plugins: [
    {
      name: "widget-css",
      setup(plugin) {
        plugin.onResolve({ filter: /^livecells:[\w-]+-css$/ }, (args) => ({ path: args.path, namespace: "livecells" }));
        plugin.onLoad({ filter: /.*/, namespace: "livecells" }, () => ({ contents: "", loader: "text" }));
      },
    },
  ],
  logLevel: "warning",
});
const files = tests.map((name) => join(out, name.replace(/\.ts$/, ".mjs")));
const run = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(run.status ?? 1);
