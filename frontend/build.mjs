// Bundles the client into ../src/livecells/static/ (served by `livecells serve`, copied by
// `livecells build`): livecells.js (the entry; lazy chunks beside it), livecells.css, katex/.
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "livecells", "static");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { livecells: join(here, "src", "index.ts") },
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
