// The Pyodide kernel's worker side, shared by the browser's module worker (worker.ts) and
// Node's worker thread (node-worker.ts): boots Pyodide from the first index URL that loads,
// then speaks the Jupyter messaging protocol, so every client treats it as one more kernel.
//
// Host -> worker: {type: "boot", options} once, then {type: "message", msg} (shell/control).
// Worker -> host: {type: "status", status, detail} while booting, {type: "message", msg}.
// input() blocks on a SharedArrayBuffer the host answers (Atomics); interrupts arrive through
// Pyodide's interrupt buffer, so both work while Python is busy.

import { type Header, type JSONObject, type Message, newMessage, uuid } from "../../protocol";
import { INPUT_ANSWERED, INPUT_HEADER_BYTES, INPUT_WAITING } from "./buffers";
import kernelSource from "./kernel.py";

export interface BootOptions {
  /** Where pyodide.mjs and its files are; tried in order until one loads. */
  indexURLs: string[];
  /** Per candidate, for import + loadPyodide. */
  timeoutMs: number;
  /** Installed before the first cell (micropip, from the site's lock file first). */
  packages: string[];
  /** Load packages a cell imports, if the lock file knows them. */
  autoloadImports: boolean;
  figureFormats: string[];
  /** Int32Array view: [0] is Pyodide's interrupt flag (2 = SIGINT). */
  interruptBuffer: SharedArrayBuffer | null;
  /** [state, length] Int32 + the answer's UTF-8 bytes; null: input() cannot block here. */
  inputBuffer: SharedArrayBuffer | null;
  /** A lock file beside the site's wheels (livecells build writes one), else the default. */
  lockFileURL: string | null;
  /** Restore Python from the memory snapshot beside pyodide.mjs (made by the package build),
   * skipping the interpreter's start-up; falls back to a plain start if it cannot. */
  snapshot: boolean;
}

export type WorkerStatus = "loading" | "installing" | "starting" | "ready" | "error";

export type HostMessage = { type: "boot"; options: BootOptions } | { type: "message"; msg: Message };
export type WorkerMessage =
  | { type: "status"; status: WorkerStatus; detail: string }
  | { type: "message"; msg: Message };

export interface Port {
  post(message: WorkerMessage): void;
  listen(handler: (message: HostMessage) => void): void;
}


// The parts of Pyodide's API this file uses (pyodide.d.ts is not imported: the core must
// not depend on the package at type-check time beyond these few calls).
interface PyProxy {
  destroy(): void;
  [key: string]: unknown;
}
interface PyodideAPI {
  version: string;
  runPython(code: string): unknown;
  runPythonAsync(code: string): Promise<unknown>;
  pyimport(name: string): PyProxy;
  loadPackage(names: string | string[], options?: object): Promise<unknown>;
  loadPackagesFromImports(code: string, options?: { messageCallback?: (m: string) => void; errorCallback?: (m: string) => void }): Promise<unknown>;
  setInterruptBuffer(buffer: Int32Array): void;
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: string): void };
  globals: { get(name: string): unknown };
  _module: EmscriptenModule;
}
/** The parts of Emscripten's module that matchThisRuntime reads and writes. */
interface EmscriptenModule {
  jspiSupported: boolean;
  HEAPU32: Uint32Array;
  UTF8ToString(pointer: number): string;
  wasmTable: WebAssembly.Table;
  _run_sync: unknown;
  _run_sync_not_supported: unknown;
  resolveGlobalSymbol(name: string): { sym: unknown };
}
type LoadPyodide = (options: { indexURL: string; lockFileURL?: string; _loadSnapshot?: Uint8Array }) => Promise<PyodideAPI>;

/** What differs between the browser's worker and Node's worker thread. */
export interface Environment {
  importModule(url: string): Promise<{ loadPyodide: LoadPyodide }>;
  /** A file's bytes (rejects when it is missing). */
  readFile(url: string): Promise<Uint8Array>;
}

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

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!ms || ms <= 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

const decoder = new TextDecoder();

export function serve(port: Port, env: Environment): void {
  let pyodide: PyodideAPI | null = null;
  let kernel: PyProxy | null = null;
  let options: BootOptions | null = null;
  let interrupt: Int32Array | null = null;
  let parent: Partial<Header> = {};
  const session = uuid();
  let queue: Promise<void> = Promise.resolve();
  let loadedFrom = -1;
  let aborting = false;

  const status = (state: WorkerStatus, detail: string) => port.post({ type: "status", status: state, detail });
  const send = (channel: Message["channel"], msgType: string, content: JSONObject, to: Partial<Header> = parent) =>
    port.post({ type: "message", msg: newMessage(channel, msgType, content, session, to) });
  const kernelStatus = (state: string, to: Partial<Header>) => send("iopub", "status", { execution_state: state }, to);

  async function boot(boot: BootOptions): Promise<void> {
    options = boot;
    const failures: string[] = [];
    for (const [index, indexURL] of boot.indexURLs.entries()) {
      const base = indexURL.endsWith("/") ? indexURL : `${indexURL}/`;
      status("loading", `loading Python (Pyodide) from ${base}`);
      try {
        pyodide = await withTimeout(load(base, boot), boot.timeoutMs, `loading Pyodide from ${base}`);
        loadedFrom = index;
        break;
      } catch (error) {
        failures.push(`${base}: ${(error as Error).message}`);
      }
    }
    if (!pyodide) {
      status("error", `Python could not be loaded: ${failures.join("; ")}`);
      return;
    }
    const py = pyodide;
    status("starting", `Pyodide ${py.version}: starting the kernel`);
    if (boot.interruptBuffer) {
      interrupt = new Int32Array(boot.interruptBuffer);
      py.setInterruptBuffer(interrupt);
    }
    py.FS.mkdirTree("/livecells");
    py.FS.writeFile("/livecells/livecells_kernel.py", kernelSource);
    py.runPython("import sys\nif '/livecells' not in sys.path: sys.path.insert(0, '/livecells')");
    const module = py.pyimport("livecells_kernel");
    const make = module.Kernel as (...args: unknown[]) => PyProxy;
    const emit = (msgType: string, content: string) => send("iopub", msgType, JSON.parse(content) as JSONObject);
    kernel = make(emit, boot.inputBuffer ? requestInput : undefined, boot.figureFormats, pipInstall);
    if (boot.packages.length) {
      try {
        await pipInstall(JSON.stringify(boot.packages));
      } catch (error) {
        status("error", `could not install ${boot.packages.join(", ")}: ${(error as Error).message}`);
        return;
      }
    }
    status("ready", `Pyodide ${py.version} ready`);
  }

  async function load(base: string, boot: BootOptions): Promise<PyodideAPI> {
    const module = await env.importModule(`${base}pyodide.mjs`);
    const options = { indexURL: base, ...(boot.lockFileURL ? { lockFileURL: boot.lockFileURL } : {}) };
    const snapshot = boot.snapshot ? await env.readFile(`${base}${SNAPSHOT}`).catch(() => null) : null;
    if (snapshot) {
      try {
        const restored = await module.loadPyodide({ ...options, _loadSnapshot: snapshot });
        matchThisRuntime(restored);
        return restored;
      } catch {
        // A snapshot from another build of Pyodide, or one matchThisRuntime cannot adapt:
        // start the interpreter the slow way.
      }
    }
    return module.loadPyodide(options);
  }

  async function pipInstall(namesJson: string): Promise<void> {
    const py = pyodide as PyodideAPI;
    const names = JSON.parse(namesJson) as string[];
    status("installing", `installing ${names.join(", ")}`);
    const progress = { messageCallback: (m: string) => status("installing", m), errorCallback: (m: string) => status("installing", m) };
    // What the site does not ship (compiled code, say) may be on a later index URL, such as
    // Pyodide's full distribution on a CDN, built for Pyodide; micropip takes the rest from
    // the site's own wheels (its lock file) first, then from the package index.
    const shipped = await siteLock();
    const missing = names.filter((name) => !(lockKey(name) in shipped));
    const elsewhere = missing.length ? await fromLaterIndex(py, missing, progress) : false;
    const rest = elsewhere ? names.filter((name) => !missing.includes(name)) : names;
    if (rest.length) {
      await py.loadPackage("micropip", progress);
      const micropip = py.pyimport("micropip");
      try {
        await (micropip.install as (n: string[]) => Promise<void>)(rest);
      } finally {
        micropip.destroy();
      }
    }
    status("ready", `installed ${names.join(", ")}`);
  }

  let shippedPackages: Record<string, unknown> | null = null;
  async function siteLock(): Promise<Record<string, unknown>> {
    if (shippedPackages) return shippedPackages;
    const base = (options?.indexURLs ?? [])[loadedFrom] ?? "";
    const url = options?.lockFileURL ?? `${base.endsWith("/") ? base : `${base}/`}pyodide-lock.json`;
    try {
      const lock = JSON.parse(decoder.decode(await env.readFile(url))) as { packages?: Record<string, unknown> };
      shippedPackages = lock.packages ?? {};
    } catch {
      shippedPackages = {};
    }
    return shippedPackages;
  }

  async function fromLaterIndex(py: PyodideAPI, names: string[], progress: object): Promise<boolean> {
    const urls = (options?.indexURLs ?? []).slice(loadedFrom + 1);
    for (const url of urls) {
      const base = url.endsWith("/") ? url : `${url}/`;
      try {
        const text = decoder.decode(await env.readFile(`${base}pyodide-lock.json`));
        const lock = JSON.parse(text) as { packages: Record<string, { file_name: string; depends: string[] }> };
        const files = new Set<string>();
        const add = (name: string): boolean => {
          const entry = lock.packages[lockKey(name)] ?? lock.packages[name.toLowerCase()];
          if (!entry) return false;
          if (files.has(entry.file_name)) return true;
          files.add(entry.file_name);
          return entry.depends.every(add);
        };
        if (!names.every(add)) continue;
        await py.loadPackage([...files].map((file) => new URL(file, base).href), progress);
        return true;
      } catch {
        continue;
      }
    }
    return false;
  }

  function requestInput(prompt: string, password: boolean): string | null {
    const state = new Int32Array((options as BootOptions).inputBuffer as SharedArrayBuffer, 0, 2);
    Atomics.store(state, 0, INPUT_WAITING);
    send("stdin", "input_request", { prompt, password });
    while (Atomics.load(state, 0) === INPUT_WAITING) {
      Atomics.wait(state, 0, INPUT_WAITING, 500);
      if (interrupt && interrupt[0] !== 0) {
        interrupt[0] = 0; // the KeyboardInterrupt is raised by the kernel, once
        return null;
      }
    }
    if (Atomics.load(state, 0) !== INPUT_ANSWERED) return null;
    const length = state[1];
    const bytes = new Uint8Array((options as BootOptions).inputBuffer as SharedArrayBuffer, INPUT_HEADER_BYTES, length);
    return decoder.decode(bytes.slice());
  }

  async function execute(msg: Message): Promise<void> {
    const content = msg.content;
    const code = String(content.code ?? "");
    kernelStatus("busy", msg.header);
    parent = msg.header;
    let reply: JSONObject;
    if (aborting || !kernel) {
      reply = { status: "aborted", execution_count: null };
    } else {
      if (options?.autoloadImports && pyodide) {
        const py = pyodide;
        await py.loadPackagesFromImports(code, { messageCallback: (m) => status("installing", m) }).catch(() => undefined);
      }
      if (interrupt) interrupt[0] = 0;
      const run = kernel.execute as (...args: unknown[]) => Promise<string>;
      reply = JSON.parse(await run(code, Boolean(content.silent), content.store_history !== false, content.allow_stdin !== false)) as JSONObject;
      if (reply.status === "error" && content.stop_on_error !== false) {
        // As ipykernel: requests already queued behind a failed one are aborted.
        aborting = true;
        queue = queue.then(() => {
          aborting = false;
        });
      }
    }
    send("shell", "execute_reply", reply, msg.header);
    kernelStatus("idle", msg.header);
  }

  function kernelInfo(msg: Message): void {
    kernelStatus("busy", msg.header);
    const version = pyodide ? String(pyodide.runPython("import sys; sys.version.split()[0]")) : "";
    send(
      "shell",
      "kernel_info_reply",
      {
        status: "ok",
        protocol_version: "5.3",
        implementation: "livecells-pyodide",
        implementation_version: pyodide?.version ?? "",
        language_info: {
          name: "python",
          version,
          mimetype: "text/x-python",
          file_extension: ".py",
          codemirror_mode: { name: "ipython", version: 3 },
          pygments_lexer: "ipython3",
          nbconvert_exporter: "python",
        },
        banner: `Python ${version} (Pyodide ${pyodide?.version ?? ""}) in livecells`,
        help_links: [],
      },
      msg.header,
    );
    kernelStatus("idle", msg.header);
  }

  function handle(msg: Message): void {
    const type = msg.header.msg_type;
    if (type === "execute_request") {
      queue = queue.then(() => execute(msg)).catch((error: Error) => {
        send("shell", "execute_reply", { status: "error", ename: "LivecellsError", evalue: error.message, traceback: [] }, msg.header);
        kernelStatus("idle", msg.header);
      });
    } else if (type === "kernel_info_request") {
      queue = queue.then(() => kernelInfo(msg));
    } else if (type === "shutdown_request") {
      send(msg.channel, "shutdown_reply", { status: "ok", restart: Boolean(msg.content.restart) }, msg.header);
    } else if (type === "interrupt_request") {
      if (interrupt) interrupt[0] = 2;
      send("control", "interrupt_reply", { status: "ok" }, msg.header);
    } else if (type.endsWith("_request")) {
      // comm_info, complete, inspect, history, is_complete: answered, honestly empty.
      send(msg.channel, type.replace(/_request$/, "_reply"), { status: "ok", ...emptyReply(type) }, msg.header);
    }
  }

  port.listen((message) => {
    // Requests wait in the queue until Python is up.
    if (message.type === "boot") queue = queue.then(() => boot(message.options)).catch((error: Error) => status("error", error.message));
    else if (message.type === "message") handle(message.msg);
  });
}

/** A requirement's name as lock files key it (PEP 503, without the version). */
function lockKey(requirement: string): string {
  return requirement.split(/[<>=!~ ;[]/)[0].toLowerCase().replace(/[-_.]+/g, "-");
}

function emptyReply(type: string): JSONObject {
  switch (type) {
    case "comm_info_request":
      return { comms: {} };
    case "complete_request":
      return { matches: [], cursor_start: 0, cursor_end: 0, metadata: {} };
    case "inspect_request":
      return { found: false, data: {}, metadata: {} };
    case "is_complete_request":
      return { status: "unknown" };
    case "history_request":
      return { history: [] };
    default:
      return {};
  }
}
