// The Pyodide kernel's worker side, shared by the browser's module worker (worker.ts) and
// Node's worker thread (node-worker.ts): boots Pyodide (./boot.ts), then speaks the Jupyter
// messaging protocol (./messages.ts says what crosses to the host), so every client treats it
// as one more kernel. Requests run one at a time, in order; they wait while Python boots.
// Comm messages (Jupyter widgets) are requests too: Python's comm manager handles them between
// cells, and what their callbacks print is parented to them, as ipykernel does.

import { type Header, type JSONObject, type Message, newMessage, uuid } from "../../protocol";
import type { PyodideAPI } from "./api";
import { loadFirst } from "./boot";
import { PythonKernel } from "./bridge";
import { waitForInput } from "./buffers";
import { COMM_MESSAGES, commRequest, ownBuffers, refusal } from "./comms";
import { PageFiles, parseListing } from "./files";
import type { BootOptions, Environment, HostMessage, Port, WorkerStatus } from "./messages";
import { Installer } from "./packages";
import { emptyReply, kernelInfo } from "./replies";

const decoder = new TextDecoder();

/** Serve the kernel on `port`. */
export function serve(port: Port, env: Environment): void {
  const kernel = new WorkerKernel(port, env);
  port.listen((message) => kernel.receive(message));
}

class WorkerKernel {
  private pyodide: PyodideAPI | null = null;
  private python: PythonKernel | null = null;
  private options: BootOptions | null = null;
  /** Pyodide's interrupt flag, when the host shares one. */
  private interrupt: Int32Array | null = null;
  /** The request whose outputs Python is emitting. */
  private parent: Partial<Header> = {};
  private session = uuid();
  /** The requests, one after another. */
  private queue: Promise<void> = Promise.resolve();
  /** A cell failed: the requests queued behind it are aborted (as ipykernel does). */
  private aborting = false;

  constructor(
    private port: Port,
    private env: Environment,
  ) {}

  receive(message: HostMessage): void {
    // Requests wait in the queue until Python is up.
    if (message.type === "boot") this.queue = this.queue.then(() => this.boot(message.options)).catch((error: Error) => this.status("error", error.message));
    else if (message.type === "message") this.handle(message.msg);
  }

  private status(state: WorkerStatus, detail: string): void {
    this.port.post({ type: "status", status: state, detail });
  }

  private send(channel: Message["channel"], msgType: string, content: JSONObject, to: Partial<Header> = this.parent, metadata?: JSONObject, buffers: Uint8Array[] = []): void {
    const msg = newMessage(channel, msgType, content, this.session, to);
    if (metadata) msg.metadata = metadata;
    msg.buffers = ownBuffers(buffers);
    this.port.post({ type: "message", msg });
  }

  private kernelStatus(state: string, to: Partial<Header>): void {
    this.send("iopub", "status", { execution_state: state }, to);
  }

  private async boot(options: BootOptions): Promise<void> {
    this.options = options;
    const { pyodide: py, index } = await loadFirst(this.env, options, (detail) => this.status("loading", detail));
    this.pyodide = py;
    this.status("starting", `Pyodide ${py.version}: starting the kernel`);
    if (options.interruptBuffer) {
      this.interrupt = new Int32Array(options.interruptBuffer);
      py.setInterruptBuffer(this.interrupt);
    }
    const installer = new Installer(py, this.env, options, index, (state, detail) => this.status(state, detail));
    const inputBuffer = options.inputBuffer;
    const files = await this.pageFiles(py, options);
    this.python = new PythonKernel(
      py,
      {
        emit: (msgType, content, metadata, buffers) => this.send("iopub", msgType, content, this.parent, metadata, buffers),
        ...(inputBuffer
          ? { requestInput: (prompt, password) => waitForInput(inputBuffer, this.interrupt, () => this.send("stdin", "input_request", { prompt, password })) }
          : {}),
        install: (names) => installer.install(names),
        fileProblem: (path) => files?.problem(path) ?? null,
      },
      options.figureFormats,
    );
    if (options.packages.length) {
      try {
        await installer.install(options.packages);
      } catch (error) {
        this.status("error", `could not install ${options.packages.join(", ")}: ${(error as Error).message}`);
        return;
      }
    }
    this.status("ready", `Pyodide ${py.version} ready`);
  }

  /** The page's files, mounted, with Python in the page's folder; none without a listing.
   * Throws, saying what is wrong, when the listing cannot be read or is not one. */
  private async pageFiles(py: PyodideAPI, options: BootOptions): Promise<PageFiles | null> {
    let data: unknown = options.files;
    const where = options.filesURL ?? "given";
    if (options.filesURL) {
      try {
        data = JSON.parse(decoder.decode(await this.env.readFile(options.filesURL)));
      } catch (error) {
        throw new Error(`the page's file listing could not be read: ${(error as Error).message}`);
      }
    }
    if (!data) return null;
    let listing;
    try {
      listing = parseListing(data);
    } catch (error) {
      throw new Error(`the page's file listing (${where}) is wrong: ${(error as Error).message}; rebuild the site (livecells build)`);
    }
    const root = options.filesURL ? new URL(listing.root, options.filesURL).href : listing.root;
    const files = new PageFiles(py.FS, listing, root, (url) => this.env.readFileSync(url));
    files.mount();
    // As ipykernel: modules beside the page import.
    py.runPython("import sys\nif '' not in sys.path: sys.path.insert(0, '')");
    return files;
  }

  private handle(msg: Message): void {
    const type = msg.header.msg_type;
    if (type === "execute_request") {
      this.queue = this.queue
        .then(() => this.execute(msg))
        .catch((error: Error) => {
          this.send("shell", "execute_reply", { status: "error", ename: "LivecellsError", evalue: error.message, traceback: [] }, msg.header);
          this.kernelStatus("idle", msg.header);
        });
    } else if (type === "kernel_info_request") {
      this.queue = this.queue.then(() => this.kernelInfo(msg));
    } else if (type === "shutdown_request") {
      this.send(msg.channel, "shutdown_reply", { status: "ok", restart: Boolean(msg.content.restart) }, msg.header);
    } else if (type === "interrupt_request") {
      if (this.interrupt) this.interrupt[0] = 2;
      this.send("control", "interrupt_reply", { status: "ok" }, msg.header);
    } else if (COMM_MESSAGES.has(type)) {
      this.queue = this.queue.then(() => this.comm(msg));
    } else if (type === "comm_info_request") {
      this.queue = this.queue.then(() => this.commInfo(msg));
    } else if ((type === "complete_request" || type === "inspect_request") && typeof msg.content.code === "string") {
      this.queue = this.queue.then(() => this.help(msg));
    } else if (type.endsWith("_request")) {
      // history, is_complete: answered, honestly empty.
      this.send(msg.channel, type.replace(/_request$/, "_reply"), emptyReply(type), msg.header);
    }
  }

  private async execute(msg: Message): Promise<void> {
    const content = msg.content;
    const code = String(content.code ?? "");
    this.kernelStatus("busy", msg.header);
    this.parent = msg.header;
    let reply: JSONObject;
    if (this.aborting || !this.python) {
      reply = { status: "aborted", execution_count: null };
    } else {
      if (this.options?.autoloadImports && this.pyodide) {
        await this.pyodide.loadPackagesFromImports(code, { messageCallback: (m) => this.status("installing", m) }).catch(() => undefined);
      }
      if (this.interrupt) this.interrupt[0] = 0;
      reply = await this.python.execute(code, {
        silent: Boolean(content.silent),
        storeHistory: content.store_history !== false,
        allowStdin: content.allow_stdin !== false,
      }, msg.header as unknown as JSONObject);
      if (reply.status === "error" && content.stop_on_error !== false) {
        this.aborting = true;
        this.queue = this.queue.then(() => {
          this.aborting = false;
        });
      }
    }
    this.send("shell", "execute_reply", reply, msg.header);
    this.kernelStatus("idle", msg.header);
  }

  /** A comm message from the page: busy, Python's comm manager, idle (the widget manager
   * waits for that idle before it sends a slider's next value). A message Python cannot take
   * (malformed, or before Python is up) is one line on stderr, parented to it. */
  private comm(msg: Message): void {
    this.kernelStatus("busy", msg.header);
    this.parent = msg.header;
    try {
      if (!this.python) throw new Error("Python is not running");
      this.python.comm(msg.header.msg_type, commRequest(msg), msg.buffers.map((b) => new Uint8Array(b)));
    } catch (error) {
      this.send("iopub", "stream", { name: "stderr", text: refusal(msg.header.msg_type, error) }, msg.header);
    }
    this.kernelStatus("idle", msg.header);
  }

  private commInfo(msg: Message): void {
    let reply: JSONObject;
    try {
      if (!this.python) throw new Error("Python is not running");
      const target = msg.content.target_name;
      reply = this.python.commInfo(typeof target === "string" ? target : null);
    } catch {
      reply = emptyReply("comm_info_request");
    }
    this.send("shell", "comm_info_reply", reply, msg.header);
  }

  /** complete_request / inspect_request: Python's answer, or an empty one before it is up. */
  private help(msg: Message): void {
    const type = msg.header.msg_type;
    const code = String(msg.content.code);
    const cursor = Number(msg.content.cursor_pos ?? code.length);
    let reply: JSONObject;
    try {
      if (!this.python) throw new Error("Python is not running");
      reply = type === "complete_request" ? this.python.complete(code, cursor) : this.python.inspect(code, cursor);
    } catch {
      reply = emptyReply(type);
    }
    this.send("shell", type.replace(/_request$/, "_reply"), reply, msg.header);
  }

  private kernelInfo(msg: Message): void {
    this.kernelStatus("busy", msg.header);
    const py = this.pyodide;
    const version = py ? String(py.runPython("import sys; sys.version.split()[0]")) : "";
    this.send("shell", "kernel_info_reply", kernelInfo(version, py?.version ?? ""), msg.header);
    this.kernelStatus("idle", msg.header);
  }
}
