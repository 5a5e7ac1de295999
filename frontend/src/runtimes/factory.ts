// Makes the runtime a page (or the reader, in the settings dialog) chose.

import { type PageConfig, PYODIDE_TIMEOUT_MS } from "../config";
import { Sessions } from "../sessions";
import { BinderRuntime } from "./binder";
import { JupyterRuntime } from "./jupyter";
import { PyodideRuntime } from "./pyodide";
import { type Runtime, type RuntimeName, UnavailableRuntime } from "./runtime";

export interface ServerSettings {
  url: string;
  token: string | null;
}

export interface BinderSettings {
  repo: string | null;
  ref: string | null;
  url: string;
  provider: string;
}

/** A runtime and its settings: the page's configuration, or what the reader entered. */
export interface Choice {
  runtime: RuntimeName;
  kernelName: string;
  server: ServerSettings | null;
  binder: BinderSettings | null;
}

export const RUNTIME_LABELS: Record<RuntimeName, string> = {
  livecells: "This site's server",
  server: "A Jupyter Server",
  binder: "Binder",
  pyodide: "Pyodide (in this browser)",
};

/** A runtime's name as the panel and the settings show it on this page: where `livecells
 * serve` starts a Binder page on its own kernels, both say which one the site configures. */
export function runtimeLabel(name: RuntimeName, config: Pick<PageConfig, "runtime" | "configured">): string {
  const label = RUNTIME_LABELS[name];
  const configured = config.configured;
  if (!configured || configured === config.runtime) return label;
  if (name === configured) return `${label} (the site's configured runtime)`;
  if (name === config.runtime) return `${label}, for this preview (the site is configured for ${RUNTIME_LABELS[configured]})`;
  return label;
}

/** The page's own choice. */
export function configuredChoice(config: PageConfig): Choice | null {
  if (!config.runtime) return null;
  return { runtime: config.runtime, kernelName: config.kernelName, server: config.server, binder: config.binder };
}

/** `base` is the URL the config's relative URLs are relative to: the page it came from. */
export function createRuntime(
  choice: Choice,
  config: PageConfig,
  log: (line: string) => void,
  base: string = document.baseURI,
): Runtime {
  const sessions = new Sessions(config.sessionSaving, config.sessionMaxAge);
  if (choice.runtime === "livecells") {
    return new JupyterRuntime({
      name: "livecells",
      baseUrl: config.baseUrl,
      token: null,
      kernelName: choice.kernelName,
      path: config.path,
      sessions,
    });
  }
  if (choice.runtime === "server" && choice.server?.url) {
    return new JupyterRuntime({
      name: "server",
      baseUrl: choice.server.url.endsWith("/") ? choice.server.url : `${choice.server.url}/`,
      token: choice.server.token || null,
      kernelName: choice.kernelName,
      path: null,
      sessions,
    });
  }
  if (choice.runtime === "pyodide") {
    const settings = config.pyodide;
    const absolute = (url: string) => new URL(url, base).href;
    // Tried in order; "local" is the site's own copy (the default), a CDN may follow it.
    const local = absolute(`${config.staticUrl}pyodide/`);
    const urls = settings?.indexURLs.length ? settings.indexURLs : ["local"];
    return new PyodideRuntime({
      workerUrl: absolute(`${config.staticUrl}pyodide-worker.js`),
      indexURLs: urls.map((url) => (url === "local" ? local : absolute(url))),
      timeoutMs: settings?.timeoutMs ?? PYODIDE_TIMEOUT_MS,
      packages: settings?.packages ?? [],
      autoloadImports: settings?.autoloadImports ?? true,
      figureFormats: settings?.figureFormats ?? ["svg"],
      lockFileURL: settings?.lockFileURL ? absolute(settings.lockFileURL) : null,
      filesURL: settings?.filesURL ? absolute(settings.filesURL) : null,
      snapshot: settings?.snapshot ?? true,
    });
  }
  if (choice.runtime === "binder" && choice.binder?.repo) {
    return new BinderRuntime({
      repo: choice.binder.repo,
      ref: choice.binder.ref,
      url: choice.binder.url,
      provider: choice.binder.provider,
      kernelName: choice.kernelName,
      sessions,
      onLog: log,
    });
  }
  const missing: Partial<Record<RuntimeName, string>> = {
    server: "no Jupyter Server named: enter its URL in the runtime settings",
    binder: "no Binder repository named: enter one in the runtime settings",
  };
  return new UnavailableRuntime(choice.runtime, missing[choice.runtime] ?? `the ${choice.runtime} runtime is not available in this version of livecells`);
}
