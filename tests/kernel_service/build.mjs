// Test-only bundles (never shipped): @jupyterlab/services as a Node.js client, and thebe-core
// for a page of another site. `node build.mjs OUTDIR`; the packages come from frontend/'s
// devDependencies, bundled by frontend/'s esbuild.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = join(here, "..", "..", "frontend");
const require = createRequire(join(frontend, "package.json"));
const { build } = require("esbuild");
const outdir = process.argv[2];
const common = {
  bundle: true,
  nodePaths: [join(frontend, "node_modules")],
  logLevel: "error",
  legalComments: "none",
};
await build({
  ...common,
  entryPoints: { "jlab-client": join(here, "jlab_client.mjs") },
  outdir,
  outExtension: { ".js": ".mjs" },
  format: "esm",
  platform: "node",
  target: "node20",
  // ws's optional native helpers
  external: ["bufferutil", "utf-8-validate"],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});
await build({
  ...common,
  entryPoints: { thebe: join(here, "thebe_page.mjs") },
  outdir,
  format: "esm",
  platform: "browser",
  target: "es2022",
  define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
  loader: { ".css": "empty", ".woff": "empty", ".woff2": "empty", ".ttf": "empty", ".eot": "empty", ".svg": "text", ".png": "empty" },
});
