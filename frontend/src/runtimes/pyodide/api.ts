// The parts of Pyodide's API the worker uses (pyodide.d.ts is not imported: the worker must not
// depend on the package at type-check time beyond these few calls).

export interface PyProxy {
  destroy(): void;
  [key: string]: unknown;
}

export interface PyodideAPI {
  version: string;
  runPython(code: string): unknown;
  runPythonAsync(code: string): Promise<unknown>;
  pyimport(name: string): PyProxy;
  loadPackage(names: string | string[], options?: object): Promise<unknown>;
  loadPackagesFromImports(code: string, options?: { messageCallback?: (m: string) => void; errorCallback?: (m: string) => void }): Promise<unknown>;
  setInterruptBuffer(buffer: Int32Array): void;
  FS: EmscriptenFS;
  globals: { get(name: string): unknown };
  _module: EmscriptenModule;
}

/** An in-memory (MEMFS) file or folder of Emscripten's file system. */
export interface FSNode {
  contents: Uint8Array | null;
  usedBytes: number;
  node_ops: {
    getattr(node: FSNode): { size: number };
    setattr(node: FSNode, attr: { size?: number }): void;
    [op: string]: unknown;
  };
  stream_ops: { open?(stream: unknown): void; [op: string]: unknown };
}

/** The parts of Emscripten's file system the worker uses. */
export interface EmscriptenFS {
  mkdirTree(path: string): void;
  writeFile(path: string, data: string | Uint8Array): void;
  chdir(path: string): void;
  lookupPath(path: string): { node: FSNode };
  ErrnoError: new (errno: number) => Error;
}

/** The parts of Emscripten's module that matchThisRuntime reads and writes. */
export interface EmscriptenModule {
  jspiSupported: boolean;
  HEAPU32: Uint32Array;
  UTF8ToString(pointer: number): string;
  wasmTable: WebAssembly.Table;
  _run_sync: unknown;
  _run_sync_not_supported: unknown;
  resolveGlobalSymbol(name: string): { sym: unknown };
}

export type LoadPyodide = (options: { indexURL: string; lockFileURL?: string; _loadSnapshot?: Uint8Array }) => Promise<PyodideAPI>;

/** Messages of pyodide.loadPackage / loadPackagesFromImports. */
export interface Progress {
  messageCallback(message: string): void;
  errorCallback(message: string): void;
}
