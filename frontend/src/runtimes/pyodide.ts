// The Pyodide runtime: CPython in WebAssembly, in a module worker, from the site's own files.
// The worker speaks the Jupyter protocol (./pyodide/core.ts), so outputs, display updates and
// input() are handled like any kernel's. When the page is cross-origin isolated, interrupts
// and input() go through SharedArrayBuffers; otherwise "interrupt" stops the worker and starts
// a new one, after telling the reader that the state is lost.

import { type Message, uuid } from "../protocol";
import { answerInput, INPUT_HEADER_BYTES } from "./pyodide/buffers";
import type { BootOptions, WorkerMessage } from "./pyodide/core";
import {
  type ExecuteCallbacks,
  type ExecuteReply,
  executeRequest,
  type Runtime,
  type Status,
  StatusEmitter,
  type StatusListener,
} from "./runtime";

export interface PyodideOptions {
  /** URL of pyodide-worker.js. */
  workerUrl: string;
  /** Where Pyodide's files are, tried in order (a CDN may follow the local copy). */
  indexURLs: string[];
  timeoutMs: number;
  packages: string[];
  autoloadImports: boolean;
  figureFormats: string[];
  lockFileURL: string | null;
  /** Start Python from the build's memory snapshot when the files have one (much faster). */
  snapshot: boolean;
  onStatus?: StatusListener;
}

/** At most this many Pyodide workers per page (each holds a whole Python). */
export const MAX_SESSIONS = 3;
const live = new Set<PyodideRuntime>();

/** How many Python sessions run on this page now (of at most MAX_SESSIONS). */
export function liveSessions(): number {
  return live.size;
}
const INPUT_BYTES = 1 << 16;

interface Pending {
  callbacks: ExecuteCallbacks;
  resolve(reply: ExecuteReply): void;
  reject(error: Error): void;
  reply: ExecuteReply | null;
  idle: boolean;
}

export class PyodideRuntime implements Runtime {
  readonly name = "pyodide";
  private emitter = new StatusEmitter();
  private worker: Worker | null = null;
  private booted: { resolve(): void; reject(error: Error): void } | null = null;
  private pending = new Map<string, Pending>();
  private displayListeners = new Set<(msg: Message) => void>();
  private interruptBuffer: SharedArrayBuffer | null = null;
  private inputBuffer: SharedArrayBuffer | null = null;
  private waitingForInput = false;
  private session = uuid();

  constructor(private options: PyodideOptions) {
    if (options.onStatus) this.emitter.on(options.onStatus);
  }

  get status(): Status {
    return this.emitter.status;
  }

  /** SharedArrayBuffer exists only on cross-origin isolated pages. */
  get isolated(): boolean {
    return typeof SharedArrayBuffer !== "undefined" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  }

  onStatus(listener: StatusListener): () => void {
    return this.emitter.on(listener);
  }

  onDisplayUpdate(listener: (msg: Message) => void): () => void {
    this.displayListeners.add(listener);
    return () => this.displayListeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.worker) return;
    if (!live.has(this) && live.size >= MAX_SESSIONS) {
      const reason = `at most ${MAX_SESSIONS} Python sessions run at once on a page; close one first`;
      this.emitter.set("error", reason);
      throw new Error(reason);
    }
    live.add(this);
    await this.boot("starting");
  }

  private boot(phase: Status): Promise<void> {
    this.emitter.set(phase, "starting a Python worker");
    const worker = new Worker(this.options.workerUrl, { type: "module", name: "livecells-pyodide" });
    this.worker = worker;
    if (this.isolated) {
      this.interruptBuffer = new SharedArrayBuffer(4);
      this.inputBuffer = new SharedArrayBuffer(INPUT_HEADER_BYTES + INPUT_BYTES);
    }
    const options: BootOptions = {
      indexURLs: this.options.indexURLs,
      timeoutMs: this.options.timeoutMs,
      packages: this.options.packages,
      autoloadImports: this.options.autoloadImports,
      figureFormats: this.options.figureFormats,
      lockFileURL: this.options.lockFileURL,
      snapshot: this.options.snapshot,
      interruptBuffer: this.interruptBuffer,
      inputBuffer: this.inputBuffer,
    };
    const ready = new Promise<void>((resolve, reject) => {
      this.booted = { resolve, reject };
    });
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      if (worker === this.worker) this.receive(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (worker === this.worker) this.fail(`the Python worker failed: ${event.message || "it could not be loaded"}`);
    };
    worker.postMessage({ type: "boot", options });
    return ready;
  }

  private receive(message: WorkerMessage): void {
    if (message.type === "status") {
      if (message.status === "ready") {
        this.emitter.set("ready", message.detail);
        this.booted?.resolve();
        this.booted = null;
      } else if (message.status === "error") {
        this.fail(message.detail);
      } else {
        this.emitter.set(message.status, message.detail); // also `installing` for %pip install
      }
      return;
    }
    const msg = message.msg;
    const parent = msg.parent_header.msg_id ? this.pending.get(msg.parent_header.msg_id) : undefined;
    const type = msg.header.msg_type;
    if (msg.channel === "iopub") {
      if (type === "status") {
        const state = String(msg.content.execution_state);
        if (state === "busy" && parent) this.emitter.set("busy", "");
        if (state === "idle" && parent) {
          parent.idle = true;
          this.settle(msg.parent_header.msg_id as string);
        }
        return;
      }
      if (type === "update_display_data") for (const listener of this.displayListeners) listener(msg);
      parent?.callbacks.onIOPub(msg);
    } else if (msg.channel === "stdin" && type === "input_request") {
      this.waitingForInput = true;
      const ask = parent?.callbacks.onInput;
      const answer = ask ? ask(String(msg.content.prompt ?? ""), Boolean(msg.content.password)) : Promise.resolve("");
      void answer.then(
        (value) => this.answer(value),
        () => this.answer(null),
      );
    } else if (msg.channel === "shell" && type === "execute_reply" && parent) {
      const content = msg.content;
      const status = content.status === "ok" || content.status === "aborted" ? content.status : "error";
      parent.reply = { status, executionCount: (content.execution_count as number | null) ?? null, content };
      this.settle(msg.parent_header.msg_id as string);
    }
  }

  private answer(value: string | null): void {
    if (!this.waitingForInput || !this.inputBuffer) return;
    this.waitingForInput = false;
    answerInput(this.inputBuffer, value);
  }

  private settle(id: string): void {
    const pending = this.pending.get(id);
    if (!pending || !pending.reply || !pending.idle) return;
    this.pending.delete(id);
    pending.resolve(pending.reply);
    if (!this.pending.size && this.worker) this.emitter.set("idle", "");
  }

  private fail(detail: string): void {
    this.stopWorker(new Error(detail));
    this.emitter.set("error", detail);
    this.booted?.reject(new Error(detail));
    this.booted = null;
  }

  private stopWorker(reason: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.waitingForInput = false;
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
  }

  execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("Python is not running: press Start"));
    const msg = executeRequest(code, callbacks, this.session);
    return new Promise<ExecuteReply>((resolve, reject) => {
      this.pending.set(msg.header.msg_id, { callbacks, resolve, reject, reply: null, idle: false });
      worker.postMessage({ type: "message", msg });
    });
  }

  async interrupt(): Promise<void> {
    if (!this.worker) return;
    if (this.interruptBuffer) {
      new Int32Array(this.interruptBuffer)[0] = 2;
      this.answer(null);
      return;
    }
    // Without isolation nothing can reach a busy worker: stop it and start a fresh one.
    const lost = "interrupted: this page is not cross-origin isolated, so Python was stopped and started again; its variables are lost";
    this.stopWorker(new Error(lost));
    await this.boot("restarting");
    this.emitter.set("ready", lost);
  }

  async restart(): Promise<void> {
    this.stopWorker(new Error("the kernel was restarted while this cell was running"));
    await this.boot("restarting");
  }

  async shutdown(): Promise<void> {
    this.stopWorker(new Error("the kernel was shut down while this cell was running"));
    live.delete(this);
    this.emitter.set("dead", "Python stopped");
  }
}
