// livecells in the browser: reads the page's config, typesets its math, and (on live pages)
// mounts the control panel and makes each code cell runnable.

import { Cell, Queue } from "./cells";
import { type PageConfig, readConfig } from "./config";
import { hasMath, typeset } from "./math";
import { type RenderOptions, updateDisplay } from "./outputs";
import { Panel } from "./panel";
import { BinderRuntime } from "./runtimes/binder";
import { JupyterRuntime } from "./runtimes/jupyter";
import { PyodideRuntime } from "./runtimes/pyodide";
import { type Runtime, UnavailableRuntime } from "./runtimes/runtime";
import { Sessions } from "./sessions";

function makeRuntime(config: PageConfig, log: (line: string) => void): Runtime {
  const sessions = new Sessions(config.sessionSaving, config.sessionMaxAge);
  if (config.runtime === "livecells") {
    return new JupyterRuntime({
      name: "livecells",
      baseUrl: config.baseUrl,
      token: null,
      kernelName: config.kernelName,
      path: config.path,
      sessions,
    });
  }
  if (config.runtime === "server" && config.server) {
    return new JupyterRuntime({
      name: "server",
      baseUrl: config.server.url,
      token: config.server.token,
      kernelName: config.kernelName,
      path: null,
      sessions,
    });
  }
  if (config.runtime === "pyodide") {
    const settings = config.pyodide;
    const absolute = (url: string) => new URL(url, document.baseURI).href;
    // Tried in order; "local" is the site's own copy (the default), a CDN may follow it.
    const local = absolute(`${config.staticUrl}pyodide/`);
    const urls = settings?.indexURLs.length ? settings.indexURLs : ["local"];
    return new PyodideRuntime({
      workerUrl: absolute(`${config.staticUrl}pyodide-worker.js`),
      indexURLs: urls.map((url) => (url === "local" ? local : absolute(url))),
      timeoutMs: settings?.timeoutMs ?? 0,
      packages: settings?.packages ?? [],
      autoloadImports: settings?.autoloadImports ?? true,
      figureFormats: settings?.figureFormats ?? ["svg"],
      lockFileURL: settings?.lockFileURL ? absolute(settings.lockFileURL) : null,
      snapshot: settings?.snapshot ?? true,
    });
  }
  if (config.runtime === "binder" && config.binder?.repo) {
    return new BinderRuntime({
      repo: config.binder.repo,
      ref: config.binder.ref,
      url: config.binder.url,
      provider: config.binder.provider,
      kernelName: config.kernelName,
      sessions,
      onLog: log,
    });
  }
  return new UnavailableRuntime(
    String(config.runtime),
    `the ${config.runtime} runtime is not available in this version of livecells`,
  );
}

function watchForChanges(config: PageConfig): void {
  if (!config.watch || !config.path || typeof EventSource === "undefined") return;
  const root = config.staticUrl.replace(/_livecells\/$/, "");
  const source = new EventSource(`${root}api/changes?path=${encodeURIComponent(config.path)}`);
  source.addEventListener("changed", () => {
    source.close();
    location.reload();
  });
}

export function main(): void {
  const config = readConfig();
  const page = document.querySelector<HTMLElement>("main.lc-page") ?? document.body;
  const options: RenderOptions = { trusted: config.trusted, math: config.math, staticUrl: config.staticUrl };
  for (const prose of page.querySelectorAll<HTMLElement>(".lc-markdown, .lc-latex, .lc-markdown-output")) {
    if (hasMath(prose.textContent || "")) void typeset(prose, config.math, config.staticUrl);
  }
  watchForChanges(config);
  if (config.runtime === null) return;

  const queue = new Queue((cell, prompt, password) => cell.outputs.ask(prompt, password));
  const cells = [...page.querySelectorAll<HTMLElement>(".lc-cell")].map((element) => new Cell(element, queue, options));
  if (!cells.length) return;
  const runtime = makeRuntime(config, (line) => panel.log(line));
  // Run all follows nbclient: cells tagged skip-execution are left for the reader to run.
  const runAll = () => cells.filter((cell) => !cell.tags.includes("skip-execution")).forEach((cell) => queue.run(cell));
  // Pyodide takes seconds to fetch and compile: with `preload` it boots when the page opens
  // (no cell runs before the reader asks), so Start finds Python ready.
  let powered = false;
  let preloading: Promise<void> | null =
    runtime instanceof PyodideRuntime && config.pyodide?.preload !== false ? runtime.start() : null;
  preloading?.catch(() => undefined);
  const panel = new Panel(
    {
      power: () => {
        powered = true;
        if (runtime.status !== "idle" && runtime.status !== "error") panel.show(runtime.status, "");
        // A failed preload is retried once the reader asks.
        const starting = preloading ? preloading.catch(() => runtime.start()) : runtime.start();
        preloading = null;
        starting
          .then(() => {
            queue.runtime = runtime;
            cells.forEach((cell) => cell.setEnabled(true));
            if (config.autoRun) runAll();
          })
          .catch((error: Error) => console.error("livecells:", error.message));
      },
      runAll,
      interrupt: () => {
        queue.drop();
        void runtime.interrupt();
      },
      restart: () => {
        queue.drop();
        void runtime.restart();
      },
    },
    runtime.name,
    config.openInJupyter,
  );
  page.prepend(panel.element);
  cells.forEach((cell) => cell.setEnabled(false));
  runtime.onStatus((status, detail) => {
    if (!powered) return; // a preload works quietly until the reader presses Start
    panel.show(status, detail);
    if (status === "dead" || status === "error") {
      queue.drop();
      queue.runtime = null;
      cells.forEach((cell) => cell.setEnabled(false));
    }
  });
  runtime.onDisplayUpdate((msg) => updateDisplay(msg, options));
  (window as unknown as { livecells: unknown }).livecells = { config, runtime, queue, cells, panel };
}

main();

// The JS API, for pages that drive a runtime themselves:
// `import { PyodideRuntime } from "./_livecells/livecells.js"`.
export { BinderRuntime, JupyterRuntime, PyodideRuntime };
export type { PyodideOptions } from "./runtimes/pyodide";
