// Python restored from the memory snapshot the package build makes (build.mjs), instead of
// started: the snapshot's file name, and what a restored interpreter must redo for the
// JavaScript runtime it now runs in.

import type { PyodideAPI } from "./api";

/** The memory snapshot of a started interpreter, made by the package build (build.mjs). */
export const SNAPSHOT = "livecells-snapshot.bin";

/**
 * Make a restored interpreter what a plain start in this JavaScript runtime would have made.
 *
 * CPython and Pyodide probe the runtime once, while Python starts, and keep the answers in
 * WebAssembly memory, which a snapshot saves: the snapshot, made by Node.js at build time,
 * carried Node's answers into the reader's browser. Measured in Chromium 156 with a snapshot
 * from Node.js 20, and redone here as a start does them:
 * - CPython's call trampoline: with no wasm-GC "count args" helper (Node.js 20 has none; a
 *   snapshot made where there is one holds a function-table slot the restored table lacks),
 *   every C call went through a JavaScript frame, which stack switching cannot suspend
 *   ("SuspendError: trying to suspend JS frames", a fatal error).
 * - `pyodide.ffi.run_sync`'s C implementation, picked by whether the runtime has JSPI:
 *   `time.sleep`, `run_sync` and `asyncio.run` raised "WebAssembly stack switching not
 *   supported in this JavaScript runtime" (and the other way round without JSPI).
 * - `sys._emscripten_info.runtime`, and `LANG` and `_` of `os.environ` (the latter held the
 *   build machine's path to build.mjs).
 * Throws (and the caller starts Python the slow way) when the interpreter is not laid out as
 * this Pyodide build lays it out.
 */
export function matchThisRuntime(py: PyodideAPI): void {
  const module = py._module;
  const initTrampoline = module.resolveGlobalSymbol("_PyEM_InitTrampoline_js").sym;
  if (typeof initTrampoline !== "function") throw new Error("no _PyEM_InitTrampoline_js in this Pyodide build");
  initTrampoline();

  const table = module.wasmTable;
  let supported = -1;
  let unsupported = -1;
  for (let i = 0; i < table.length && (supported < 0 || unsupported < 0); i++) {
    const entry: unknown = table.get(i);
    if (entry === module._run_sync) supported = i;
    else if (entry === module._run_sync_not_supported) unsupported = i;
  }
  // A builtin function is a PyCFunctionObject: refcount, type, then its PyMethodDef* (wasm32);
  // a PyMethodDef starts with the name's char* and the C function's table index.
  const fn = Number(py.runPython("import pyodide.ffi\nid(pyodide.ffi.run_sync)"));
  const def = module.HEAPU32[(fn + 8) >>> 2];
  const current = module.HEAPU32[(def + 4) >>> 2];
  if (module.UTF8ToString(module.HEAPU32[def >>> 2]) !== "run_sync" || supported < 0 || unsupported < 0 || ![supported, unsupported].includes(current)) {
    throw new Error("pyodide.ffi.run_sync is not laid out as this Pyodide build lays it out");
  }
  module.HEAPU32[(def + 4) >>> 2] = module.jspiSupported ? supported : unsupported;

  // As Emscripten's getEnvStrings and CPython's _Py_emscripten_runtime compute them.
  const nav = (globalThis as { navigator?: { userAgent?: string; languages?: readonly string[] } }).navigator;
  const node = (globalThis as { process?: { version?: string; argv?: string[] } }).process;
  const runtime = nav?.userAgent ?? (node?.version ? `Node.js ${node.version}` : "UNKNOWN");
  const lang = `${(nav?.languages?.[0] || "C").replace("-", "_")}.UTF-8`;
  const program = nav ? "./this.program" : (node?.argv?.[1] ?? "./this.program");
  py.runPython(
    [
      "import os, sys",
      "_info = sys._emscripten_info",
      `sys._emscripten_info = type(_info)((_info.emscripten_version, ${JSON.stringify(runtime)}, _info.pthreads, _info.shared_memory))`,
      `os.environ.update(LANG=${JSON.stringify(lang)}, _=${JSON.stringify(program)})`,
      "del _info",
    ].join("\n"),
  );
}
