// The Python side of the worker: kernel.py and comms.py (embedded as text) imported into
// Pyodide, and the calls between it and the worker. Python emits iopub messages as (msg_type,
// JSON content[, JSON metadata, buffers]), asks for input() and installs packages through the
// callbacks it is made with.

import type { JSONObject } from "../../protocol";
import type { PyodideAPI, PyProxy } from "./api";
import commsSource from "./comms.py";
import kernelSource from "./kernel.py";

export interface PythonCallbacks {
  /** An iopub message (stream, display_data, comm_msg, ...) of the request being handled. */
  emit(msgType: string, content: JSONObject, metadata?: JSONObject, buffers?: Uint8Array[]): void;
  /** input(): the answer, or null when interrupted; absent when input() cannot block here. */
  requestInput?(prompt: string, password: boolean): string | null;
  /** `%pip install` (and the page's packages). */
  install(names: string[]): Promise<void>;
  /** Why a page file (absolute path) could not be opened, if it could not. */
  fileProblem(path: string): string | null;
}

export interface ExecuteOptions {
  silent: boolean;
  storeHistory: boolean;
  allowStdin: boolean;
}

/** livecells_kernel.Kernel, made in `py`. */
export class PythonKernel {
  private kernel: PyProxy;

  constructor(py: PyodideAPI, callbacks: PythonCallbacks, figureFormats: string[]) {
    py.FS.mkdirTree("/livecells");
    py.FS.writeFile("/livecells/livecells_kernel.py", kernelSource);
    py.FS.writeFile("/livecells/livecells_comms.py", commsSource);
    py.runPython("import sys\nif '/livecells' not in sys.path: sys.path.insert(0, '/livecells')");
    const module = py.pyimport("livecells_kernel");
    const make = module.Kernel as (...args: unknown[]) => PyProxy;
    const emit = (msgType: string, content: string, metadata?: string, buffers?: PyProxy) => {
      let arrays: Uint8Array[] = [];
      if (buffers) {
        arrays = (buffers.toJs as () => Uint8Array[])();
        buffers.destroy();
      }
      callbacks.emit(msgType, JSON.parse(content) as JSONObject, metadata ? (JSON.parse(metadata) as JSONObject) : undefined, arrays);
    };
    const requestInput = callbacks.requestInput?.bind(callbacks);
    const install = (names: string) => callbacks.install(JSON.parse(names) as string[]);
    const fileProblem = (path: string) => callbacks.fileProblem(path);
    this.kernel = make(emit, requestInput, figureFormats, install, fileProblem);
  }

  /** Run a cell (`parent`: its request's header): the execute_reply's content. */
  async execute(code: string, options: ExecuteOptions, parent: JSONObject): Promise<JSONObject> {
    const run = this.kernel.execute as (...args: unknown[]) => Promise<string>;
    return JSON.parse(await run(code, options.silent, options.storeHistory, options.allowStdin, JSON.stringify(parent))) as JSONObject;
  }

  /** A comm message from the page, to Python's comm manager (its callbacks run now). */
  comm(msgType: string, message: JSONObject, buffers: Uint8Array[]): void {
    const handle = this.kernel.comm as (msgType: string, message: string, buffers: Uint8Array[]) => void;
    handle(msgType, JSON.stringify(message), buffers);
  }

  /** comm_info_reply's content: the open comms (of `target`, when given). */
  commInfo(target: string | null): JSONObject {
    const info = this.kernel.comm_info as (target: string | null) => string;
    return JSON.parse(info(target)) as JSONObject;
  }

  /** complete_reply's content (rlcompleter). */
  complete(code: string, cursorPos: number): JSONObject {
    const complete = this.kernel.complete as (code: string, cursorPos: number) => string;
    return JSON.parse(complete(code, cursorPos)) as JSONObject;
  }

  /** inspect_reply's content (signature and docstring). */
  inspect(code: string, cursorPos: number): JSONObject {
    const inspect = this.kernel.inspect as (code: string, cursorPos: number) => string;
    return JSON.parse(inspect(code, cursorPos)) as JSONObject;
  }
}
