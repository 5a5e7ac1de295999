// The JS API, for pages that drive a runtime themselves:
// `import { PyodideRuntime } from "./_livecells/livecells.js"`. Importing it has no side
// effects; page.ts (the bundle's entry, livecells.js) re-exports it and starts the page.

export { main } from "./main";
export { BinderRuntime } from "./runtimes/binder";
export { JupyterRuntime } from "./runtimes/jupyter";
export { PyodideRuntime } from "./runtimes/pyodide";
export type { PyodideOptions } from "./runtimes/pyodide";
