// What the Pyodide kernel's host (a browser page, or node.ts for the Python side) and its worker
// say to each other, and what differs between the hosts.
//
// Host -> worker: {type: "boot", options} once, then {type: "message", msg} (shell/control).
// Worker -> host: {type: "status", status, detail} while booting, {type: "message", msg}.
// input() blocks on a SharedArrayBuffer the host answers (Atomics, ./buffers.ts); interrupts
// arrive through Pyodide's interrupt buffer, so both work while Python is busy.

import type { Message } from "../../protocol";
import type { LoadPyodide } from "./api";
import type { Listing } from "./files";

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
  /** The listing of the page's files (livecells build and serve write one per page folder). */
  filesURL: string | null;
  /** The same listing given inline, its root absolute (livecells run, from the disk). */
  files: Listing | null;
}

export type WorkerStatus = "loading" | "installing" | "starting" | "ready" | "error";

export type HostMessage = { type: "boot"; options: BootOptions } | { type: "message"; msg: Message };
export type WorkerMessage =
  | { type: "status"; status: WorkerStatus; detail: string }
  | { type: "message"; msg: Message };

/** The worker's end of the channel to its host. */
export interface Port {
  post(message: WorkerMessage): void;
  listen(handler: (message: HostMessage) => void): void;
}

/** What differs between the browser's worker and Node's worker thread. */
export interface Environment {
  importModule(url: string): Promise<{ loadPyodide: LoadPyodide }>;
  /** A file's bytes (rejects when it is missing). */
  readFile(url: string): Promise<Uint8Array>;
  /** The same, synchronously (a page file, inside the file system call that opens it). */
  readFileSync(url: string): Uint8Array;
}
