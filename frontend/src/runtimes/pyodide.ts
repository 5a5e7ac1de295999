// The Pyodide runtime: CPython in WebAssembly, in a module worker, from the site's own files.
// The worker speaks the Jupyter protocol (./pyodide/core.ts), so outputs, display updates and
// input() are handled like any kernel's. When the page is cross-origin isolated, interrupts
// and input() go through SharedArrayBuffers; otherwise "interrupt" stops the worker and starts
// a new one, after telling the reader that the state is lost. Comms (Jupyter widgets) go to the
// worker as shell messages, buffers and all; its iopub messages pass the widget manager's hooks
// (BaseRuntime.route) first. A restart is a new worker: the page's widgets forget the old models.

import { type JSONObject, type Message, newMessage, uuid } from "../protocol";
import { answerInput, INPUT_HEADER_BYTES } from "./pyodide/buffers";
import type { BootOptions, WorkerMessage } from "./pyodide/messages";
import { BaseRuntime } from "./base";
import { Executions } from "./executions";
import { type CommMessageType, type ExecuteCallbacks, type ExecuteReply, executeRequest, type HelpRequest, type Status, type StatusListener } from "./runtime";

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
  /** The listing of the files beside the page (Python starts in the page's folder). */
  filesURL: string | null;
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
const HELP_TIMEOUT = 5000;

export class PyodideRuntime extends BaseRuntime {
  readonly name = "pyodide";
  private worker: Worker | null = null;
  private booted: { resolve(): void; reject(error: Error): void } | null = null;
  /** Python reports idle once the last execution waited on is complete. */
  private executions = new Executions(() => {
    if (!this.executions.size && this.worker) this.setStatus("idle", "");
  });
  private interruptBuffer: SharedArrayBuffer | null = null;
  private inputBuffer: SharedArrayBuffer | null = null;
  private waitingForInput = false;
  private session = uuid();
  /** complete / inspect requests waiting for their reply, by msg_id. */
  private helpReplies = new Map<string, (reply: Message) => void>();

  constructor(private options: PyodideOptions) {
    super();
    if (options.onStatus) this.onStatus(options.onStatus);
  }

  /** SharedArrayBuffer exists only on cross-origin isolated pages. */
  get isolated(): boolean {
    return typeof SharedArrayBuffer !== "undefined" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  }

  async start(): Promise<void> {
    if (this.worker) return;
    if (!live.has(this) && live.size >= MAX_SESSIONS) {
      const reason = `at most ${MAX_SESSIONS} Python sessions run at once on a page; close one first`;
      this.setStatus("error", reason);
      throw new Error(reason);
    }
    live.add(this);
    await this.boot("starting");
  }

  private boot(phase: Status): Promise<void> {
    this.setStatus(phase, "starting a Python worker");
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
      filesURL: this.options.filesURL,
      files: null,
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
        this.setStatus("ready", message.detail);
        this.booted?.resolve();
        this.booted = null;
      } else if (message.status === "error") {
        this.fail(message.detail);
      } else {
        this.setStatus(message.status, message.detail); // also `installing` for %pip install
      }
      return;
    }
    this.route(message.msg, (msg) => this.dispatch(msg));
  }

  private dispatch(msg: Message): void {
    const helped = this.helpReplies.get(msg.parent_header.msg_id ?? "");
    if (helped && msg.channel === "shell") return helped(msg);
    const callbacks = this.executions.callbacks(msg.parent_header.msg_id || undefined);
    const type = msg.header.msg_type;
    if (msg.channel === "iopub" && type === "status" && msg.content.execution_state === "busy" && callbacks) this.setStatus("busy", "");
    if (msg.channel === "iopub" && type === "update_display_data") this.displayUpdate(msg); // and its execution's outputs
    if (msg.channel === "stdin" && type === "input_request") {
      this.waitingForInput = true;
      const ask = callbacks?.onInput;
      const answer = ask ? ask(String(msg.content.prompt ?? ""), Boolean(msg.content.password)) : Promise.resolve("");
      void answer.then(
        (value) => this.answer(value),
        () => this.answer(null),
      );
    }
    this.executions.receive(msg);
  }

  private answer(value: string | null): void {
    if (!this.waitingForInput || !this.inputBuffer) return;
    this.waitingForInput = false;
    answerInput(this.inputBuffer, value);
  }

  private fail(detail: string): void {
    this.stopWorker(new Error(detail));
    this.setStatus("error", detail);
    this.booted?.reject(new Error(detail));
    this.booted = null;
  }

  private stopWorker(reason: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.waitingForInput = false;
    this.executions.failAll(reason);
  }

  help(type: HelpRequest, content: JSONObject): Promise<JSONObject> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("Python is not running"));
    const msg = newMessage("shell", type, content, this.session);
    const id = msg.header.msg_id;
    return new Promise((resolve, reject) => {
      // Python answers between cells: a long cell keeps the editor's question waiting.
      const timer = setTimeout(() => {
        this.helpReplies.delete(id);
        reject(new Error(`no ${type} reply within ${HELP_TIMEOUT} ms`));
      }, HELP_TIMEOUT);
      this.helpReplies.set(id, (reply) => {
        clearTimeout(timer);
        this.helpReplies.delete(id);
        resolve(reply.content);
      });
      worker.postMessage({ type: "message", msg });
    });
  }

  sendComm(type: CommMessageType, content: JSONObject, metadata: JSONObject = {}, buffers: ArrayBuffer[] = []): string {
    const worker = this.worker;
    if (!worker) throw new Error("Python is not running: press Start");
    const msg = newMessage("shell", type, content, this.session);
    msg.metadata = metadata;
    msg.buffers = buffers;
    worker.postMessage({ type: "message", msg });
    return msg.header.msg_id;
  }

  execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("Python is not running: press Start"));
    const msg = executeRequest(code, callbacks, this.session);
    const done = this.executions.add(msg.header.msg_id, callbacks);
    try {
      worker.postMessage({ type: "message", msg });
    } catch (error) {
      this.executions.cancel(msg.header.msg_id, error as Error);
    }
    return done;
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
    this.setStatus("ready", lost);
  }

  async restart(): Promise<void> {
    this.stopWorker(new Error("the kernel was restarted while this cell was running"));
    await this.boot("restarting");
  }

  async shutdown(): Promise<void> {
    this.stopWorker(new Error("the kernel was shut down while this cell was running"));
    live.delete(this);
    this.setStatus("dead", "Python stopped");
  }
}
