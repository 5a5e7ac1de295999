// The page's configuration, written by livecells' renderer (see frontend/README.md).

import type { CellMarkup } from "./markup";
import type { MathConfig } from "./math";
import type { RuntimeName } from "./runtimes/runtime";

export interface PageConfig {
  runtime: RuntimeName | null;
  /** The runtimes the reader may switch to, the page's own first. */
  runtimes: RuntimeName[];
  /** The runtime the project configures, when the page starts on another here (`livecells
   * serve` starts Binder pages on its own kernels). */
  configured: RuntimeName | null;
  kernelName: string;
  baseUrl: string;
  server: { url: string; token: string | null } | null;
  binder: { repo: string | null; ref: string | null; url: string; provider: string } | null;
  autoRun: boolean;
  sessionSaving: boolean;
  sessionMaxAge: number;
  trusted: boolean;
  /** The reader may name a Jupyter Server or BinderHub of their own (else only the configured
   * ones: the page's CSP allows no other). */
  allowReaderServer: boolean;
  /** anywidget widgets may run the modules they carry (the page's CSP allows blob: scripts). */
  allowWidgetESM: boolean;
  math: MathConfig;
  staticUrl: string;
  openInJupyter: string | null;
  path: string | null;
  watch: boolean;
  pyodide: PyodideSettings | null;
  /** Cells in another tool's markup (Sphinx): a sphinx-thebe style selector; null: ours. */
  cells: CellMarkup | null;
}

export interface PyodideSettings {
  /** Extra places for Pyodide's files, after (or, when set, instead of) the site's copy. */
  indexURLs: string[];
  timeoutMs: number;
  packages: string[];
  autoloadImports: boolean;
  figureFormats: string[];
  /** Load Python when the page opens, so the first run does not wait (no cell runs). */
  preload: boolean;
  lockFileURL: string | null;
  snapshot: boolean;
  /** The listing of the files beside the page (livecells.pagefiles). */
  filesURL: string | null;
  /** `livecells serve` is still resolving the page's wheels: it says so, and reloads once ready. */
  preparing: boolean;
}

/** How long Pyodide may take to load from one index URL before the next is tried, when the page
 * does not say (livecells.config.PYODIDE_TIMEOUT_MS; 0: no limit). */
export const PYODIDE_TIMEOUT_MS = 120000;

const DEFAULTS: PageConfig = {
  runtime: null,
  runtimes: [],
  configured: null,
  kernelName: "python3",
  baseUrl: "/",
  server: null,
  binder: null,
  autoRun: true,
  sessionSaving: true,
  sessionMaxAge: 86400,
  trusted: false,
  allowReaderServer: false,
  allowWidgetESM: false,
  math: { engine: "katex" },
  staticUrl: "_livecells/",
  openInJupyter: null,
  path: null,
  watch: false,
  pyodide: null,
  cells: null,
};

/** The page's configuration: its `#livecells-config` script, over the defaults. */
export function readConfig(): PageConfig {
  return parseConfig(document.getElementById("livecells-config")?.textContent ?? null);
}

/** `text` (the JSON livecells wrote into the page) over the defaults; the defaults alone, with
 * one console line, when it is missing, not JSON, or not an object. */
export function parseConfig(text: string | null): PageConfig {
  if (text === null) return { ...DEFAULTS };
  let given: unknown;
  try {
    given = JSON.parse(text || "{}");
  } catch {
    console.error("livecells: the page's #livecells-config is not valid JSON");
    return { ...DEFAULTS };
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    console.error("livecells: the page's #livecells-config is not a JSON object");
    return { ...DEFAULTS };
  }
  return { ...DEFAULTS, ...(given as Partial<PageConfig>) };
}
