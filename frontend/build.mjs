// Bundles the client into ../src/livecells/static/ (served by `livecells serve`, copied by
// `livecells build`): livecells.js (the entry, src/page.ts; lazy chunks beside it), livecells.css, katex/.
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "livecells", "static");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Jupyter widgets: their stylesheets are one text module of the widgets chunk (src/widgets.css
// and what it imports, bundled here; ipympl's chunk has src/ipympl.css the same way), and
// html-manager's and jupyter-matplotlib's own `require("….css")` are left out.
const STYLESHEETS = { "widget-css": "widgets.css", "ipympl-css": "ipympl.css" };
const widgetStyles = {
  name: "widget-styles",
  setup(plugin) {
    plugin.onResolve({ filter: /^livecells:[\w-]+-css$/ }, (args) => ({ path: args.path.slice("livecells:".length), namespace: "livecells" }));
    plugin.onLoad({ filter: /.*/, namespace: "livecells" }, async (args) => {
      const css = await build({ entryPoints: [join(here, "src", STYLESHEETS[args.path])], bundle: true, minify: true, write: false, logLevel: "warning", loader: { ".css": "css" } });
      return { contents: css.outputFiles[0].text, loader: "text" };
    });
    plugin.onLoad({ filter: /\.css$/ }, () => ({ contents: "", loader: "js" }));
  },
};

await build({
  entryPoints: { livecells: join(here, "src", "page.ts") },
  plugins: [widgetStyles],
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".svg": "text" },
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  target: "es2020",
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
});
// The Pyodide kernel: a module worker for browsers, and the same core for Node.js (the Python
// side's runtime `pyodide`); kernel.py is embedded as text.
const worker = { bundle: true, format: "esm", minify: true, legalComments: "none", logLevel: "warning", loader: { ".py": "text" } };
await build({ ...worker, entryPoints: { "pyodide-worker": join(here, "src", "runtimes", "pyodide", "worker.ts") }, outdir: out, target: "es2020" });
await build({
  ...worker,
  entryPoints: {
    "pyodide-node": join(here, "src", "runtimes", "pyodide", "node.ts"),
    "pyodide-node-worker": join(here, "src", "runtimes", "pyodide", "node-worker.ts"),
  },
  outdir: out,
  outExtension: { ".js": ".mjs" },
  platform: "node",
  target: "node18",
});
// Pyodide itself, self-hosted: the npm package's core files. Its lock file lists the packages
// of Pyodide's full distribution, which the npm package does not ship: ours lists none (a site's
// own wheels get a lock file of their own from `livecells build`), so nothing reaches for a file
// that is not there. The versions micropip needs are kept for that build.
const pyodide = join(here, "node_modules", "pyodide");
mkdirSync(join(out, "pyodide"), { recursive: true });
for (const name of ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"]) {
  cpSync(join(pyodide, name), join(out, "pyodide", name));
}
const lock = JSON.parse(readFileSync(join(pyodide, "pyodide-lock.json"), "utf8"));
/** Import name -> package, for the packages of Pyodide's distribution with compiled code (not
 * shipped here, and not to be had from `packages`): kernel.py names them in its advice. */
function compiledImports(lock) {
  const imports = {};
  for (const entry of Object.values(lock.packages)) {
    if (entry.package_type !== "package" || entry.file_name.endsWith("-none-any.whl")) continue;
    for (const name of entry.imports ?? []) imports[name] = entry.name;
  }
  return imports;
}
const version = JSON.parse(readFileSync(join(pyodide, "package.json"), "utf8")).version;
writeFileSync(join(out, "pyodide", "pyodide-lock.json"), JSON.stringify({ info: lock.info, packages: {} }));
writeFileSync(
  join(out, "pyodide", "livecells-pyodide.json"),
  JSON.stringify({ version, python: lock.info.python, micropip: lock.packages.micropip.version, packaging: lock.packages.packaging.version, info: lock.info, compiled: compiledImports(lock) }, null, 1),
);

// A memory snapshot of a started interpreter that has imported what kernel.py imports: the
// worker restores it instead of starting Python (measured: ~0.5 s instead of ~2.8 s here).
// It holds what Python learnt about this Node.js while starting (JSPI, wasm-GC, user agent):
// the worker redoes those probes for its own runtime after restoring (matchThisRuntime).
{
  const { loadPyodide } = await import(join(out, "pyodide", "pyodide.mjs"));
  const python = await loadPyodide({ indexURL: join(out, "pyodide") + "/", _makeSnapshot: true });
  python.runPython("import ast, base64, builtins, getpass, inspect, io, json, linecache, os, pprint, re, tokenize, traceback, types, uuid");
  writeFileSync(join(out, "pyodide", "livecells-snapshot.bin"), python.makeMemorySnapshot());
}

cpSync(join(here, "src", "livecells.css"), join(out, "livecells.css"));
const katex = join(here, "node_modules", "katex", "dist");
mkdirSync(join(out, "katex"), { recursive: true });
cpSync(join(katex, "katex.min.css"), join(out, "katex", "katex.min.css"));
cpSync(join(katex, "fonts"), join(out, "katex", "fonts"), { recursive: true });

// The JavaScript a page loads before its first run: the entry and its static imports.
const seen = new Set();
const pending = ["livecells.js"];
let size = 0;
while (pending.length) {
  const name = pending.pop();
  if (seen.has(name)) continue;
  seen.add(name);
  const text = readFileSync(join(out, name), "utf8");
  size += gzipSync(text, { level: 9 }).length;
  for (const match of text.matchAll(/(?:^|[;}\s])import\s*(?:[^()"']*?from\s*)?["']\.\/([\w./-]+\.js)["']/g)) {
    pending.push(match[1].startsWith("chunks/") || name.startsWith("chunks/") ? join(dirname(name), match[1]).replace(/^\.\//, "") : match[1]);
  }
}
const chunks = readdirSync(join(out, "chunks")).length;
console.log(`livecells client: ${(size / 1024).toFixed(1)} KB gzipped before the first run (${[...seen].join(", ")}); ${chunks} lazy chunks`);
