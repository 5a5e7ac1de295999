// `node pyodide-node.mjs`: the Pyodide kernel for livecells' Python side (runtime `pyodide`).
// The same worker core as in the browser runs in a worker thread; this host relays JSON lines
// between stdio and the worker, answers input() through the shared buffer and interrupts
// through Pyodide's interrupt buffer, so both work while Python is busy.
//
// stdin:  {"type": "boot", "options": {...}} first, then {"type": "message", "msg": {...}},
//         {"type": "interrupt"}, {"type": "restart"}; EOF ends the kernel.
// stdout: {"type": "status", "status", "detail"}, {"type": "message", "msg"}, {"type": "warning", "detail"}.
// A message's binary buffers (comms) travel as base64 strings, both ways.

import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { PYODIDE_TIMEOUT_MS } from "../../config";
import type { Message } from "../../protocol";
import { answerInput, INPUT_HEADER_BYTES } from "./buffers";
import { fromBase64, toBase64 } from "./comms";
import type { BootOptions, WorkerMessage } from "./messages";

const INPUT_BYTES = 1 << 20;

function write(line: WorkerMessage | { type: "status"; status: "dead"; detail: string } | { type: "warning"; detail: string }): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/**
 * Give the worker's isolate JavaScript Promise Integration (stack switching), as Chromium has
 * it: without it `time.sleep`, `run_sync` and the webloop take other paths than in the reader's
 * browser. Node.js has JSPI from 25 on, and in 24 behind `--experimental-wasm-jspi` (the
 * standard API, set here before the worker makes its isolate). Older Node.js only has an early
 * draft behind a flag, which crashes (measured on Node.js 20: a segfault a few cells in), so
 * there Python runs as in a browser without JSPI, and the host says so once (stdout, `warning`).
 */
function enableStackSwitching(): string | null {
  if ("Suspending" in WebAssembly) return null;
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 24) {
    setFlagsFromString("--experimental-wasm-jspi");
    return null;
  }
  return (
    `Node.js ${process.versions.node} has no JavaScript Promise Integration (Node.js 24 or newer has, as Chromium does): ` +
    "time.sleep busy-waits and run_sync raises here, as in a browser without it"
  );
}
const noStackSwitching = enableStackSwitching();

let options: BootOptions | null = null;
let worker: Worker | null = null;
let waitingForInput = false;

function start(): void {
  if (!options) return;
  const boot: BootOptions = {
    ...options,
    interruptBuffer: new SharedArrayBuffer(4),
    inputBuffer: new SharedArrayBuffer(INPUT_HEADER_BYTES + INPUT_BYTES),
  };
  options = boot;
  const current = new Worker(fileURLToPath(new URL("./pyodide-node-worker.mjs", import.meta.url)));
  worker = current;
  current.on("message", (message: WorkerMessage) => {
    if (message.type === "message" && message.msg.header.msg_type === "input_request") waitingForInput = true;
    if (message.type === "message") write({ type: "message", msg: { ...message.msg, buffers: toBase64(message.msg.buffers) as never } });
    else write(message);
  });
  current.on("error", (error: Error) => write({ type: "status", status: "error", detail: error.message }));
  current.on("exit", (code: number) => {
    if (worker === current) write({ type: "status", status: "dead", detail: `the Pyodide worker exited (code ${code})` });
  });
  current.postMessage({ type: "boot", options: boot });
}

function interrupt(): void {
  if (!options) return;
  new Int32Array(options.interruptBuffer as SharedArrayBuffer)[0] = 2;
  if (waitingForInput) {
    waitingForInput = false;
    answerInput(options.inputBuffer as SharedArrayBuffer, null);
  }
}

function receive(line: string): void {
  if (!line.trim()) return;
  const message = JSON.parse(line) as { type: string; options?: Partial<BootOptions>; msg?: Message };
  if (message.type === "boot") {
    const here = fileURLToPath(new URL("./pyodide/", import.meta.url));
    options = {
      indexURLs: [here],
      timeoutMs: PYODIDE_TIMEOUT_MS,
      packages: [],
      autoloadImports: true,
      figureFormats: ["svg"],
      lockFileURL: null,
      snapshot: true,
      filesURL: null,
      files: null,
      ...message.options,
      interruptBuffer: null,
      inputBuffer: null,
    };
    if (noStackSwitching) write({ type: "warning", detail: noStackSwitching });
    start();
  } else if (message.type === "interrupt") {
    interrupt();
  } else if (message.type === "restart") {
    const old = worker;
    worker = null;
    void old?.terminate();
    waitingForInput = false;
    start();
  } else if (message.type === "message" && message.msg) {
    const msg = { ...message.msg, buffers: fromBase64(message.msg.buffers as unknown) };
    if (msg.header.msg_type === "input_reply" && options?.inputBuffer) {
      waitingForInput = false;
      answerInput(options.inputBuffer, String(msg.content.value ?? ""));
    } else if (msg.header.msg_type === "interrupt_request") {
      interrupt();
      worker?.postMessage({ type: "message", msg }); // the worker replies (interrupt_reply)
    } else {
      worker?.postMessage({ type: "message", msg });
    }
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  try {
    receive(line);
  } catch (error) {
    write({ type: "status", status: "error", detail: `bad request: ${(error as Error).message}` });
  }
});
lines.on("close", () => {
  void worker?.terminate();
  process.exit(0);
});
