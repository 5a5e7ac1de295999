// The Python side of the worker: kernel.py (embedded as text) imported into Pyodide, and the
// calls between it and the worker. Python emits iopub messages as (msg_type, JSON content),
// asks for input() and installs packages through the callbacks it is made with.

import type { JSONObject } from "../../protocol";
import type { PyodideAPI, PyProxy } from "./api";
import kernelSource from "./kernel.py";

export interface PythonCallbacks {
  /** An iopub message (stream, display_data, ...) of the running cell. */
  emit(msgType: string, content: JSONObject): void;
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
    py.runPython("import sys\nif '/livecells' not in sys.path: sys.path.insert(0, '/livecells')");
    const module = py.pyimport("livecells_kernel");
    const make = module.Kernel as (...args: unknown[]) => PyProxy;
    const emit = (msgType: string, content: string) => callbacks.emit(msgType, JSON.parse(content) as JSONObject);
    const requestInput = callbacks.requestInput?.bind(callbacks);
    const install = (names: string) => callbacks.install(JSON.parse(names) as string[]);
    const fileProblem = (path: string) => callbacks.fileProblem(path);
    this.kernel = make(emit, requestInput, figureFormats, install, fileProblem);
  }

  /** Run a cell: the execute_reply's content. */
  async execute(code: string, options: ExecuteOptions): Promise<JSONObject> {
    const run = this.kernel.execute as (...args: unknown[]) => Promise<string>;
    return JSON.parse(await run(code, options.silent, options.storeHistory, options.allowStdin)) as JSONObject;
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
