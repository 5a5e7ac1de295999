// The pure parts of hosting widget front ends that are not ipywidgets' own: anywidget's front-end
// module (AFM) contract (what its `_esm` module must export, the `model` its hooks get) and the
// npm version ranges a kernel asks for (jupyter-matplotlib's). The module comes from a kernel,
// so each shape is checked here and a wrong one becomes a one-line reason.

/** The page option that lets anywidget widgets run their modules (livecells.config). */
export const ESM_OPTION = "allowWidgetESM";

/** What a hook may return: a function undone when the view (or module) goes away. */
export type Cleanup = (() => unknown) | void | undefined;

/** The model a widget's hooks get (anywidget's `AnyModel`): Backbone's model, narrowed. */
export interface AnyModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(name: string, callback: (...args: never[]) => unknown): void;
  off(name?: string | null, callback?: ((...args: never[]) => unknown) | null): void;
  widget_manager: unknown;
}

/** The Backbone model behind the proxy (ipywidgets' `WidgetModel`). */
export interface BackboneModel {
  get(name: string): unknown;
  set(name: string, value: unknown): unknown;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(name: string, callback: (...args: never[]) => unknown, context: object): unknown;
  off(name: string | null, callback: ((...args: never[]) => unknown) | null, context: object): unknown;
  widget_manager: unknown;
}

/** anywidget's `experimental.invoke`: call a kernel-side `@command`, get its answer and buffers. */
export type Invoke = (
  name: string,
  msg?: unknown,
  options?: { buffers?: ArrayBuffer[]; signal?: AbortSignal },
) => Promise<[unknown, unknown[]]>;

/** How long an `invoke` waits for its answer unless given a signal (anywidget's own 3 s). */
export const INVOKE_TIMEOUT = 3000;

export interface HookProps {
  model: AnyModel;
  experimental: { invoke: Invoke };
}

export interface RenderProps extends HookProps {
  el: HTMLElement;
}

/** A widget's front end: `export default { initialize, render }` (either may be left out). */
export interface AnyWidget {
  initialize?(props: HookProps): Cleanup | Promise<Cleanup>;
  render?(props: RenderProps): Cleanup | Promise<Cleanup>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null;
}

/** Why an `_esm` value cannot be run here, or null. A URL is not fetched: a site's CSP allows
 * scripts from itself and blob: URLs, no other origin. */
export function esmProblem(esm: unknown): string | null {
  if (typeof esm !== "string" || !esm.trim()) return "the widget has no _esm module";
  if (/^https?:\/\//.test(esm.trim())) return "an _esm that is a URL is not loaded here (only module text is run)";
  return null;
}

/**
 * The widget an imported module describes, as anywidget reads it: a `default` object, or a
 * `default` function returning one; a module exporting `render` alone is the older form.
 */
export async function widgetOf(module: unknown): Promise<AnyWidget> {
  if (!isObject(module)) throw new Error("the _esm module exports nothing");
  if (typeof module.render === "function") return { render: module.render as AnyWidget["render"] };
  const exported = module.default;
  const widget: unknown = typeof exported === "function" ? await (exported as () => unknown)() : exported;
  if (!isObject(widget)) throw new Error("the _esm module has no default export (export default { render })");
  for (const hook of ["initialize", "render"] as const) {
    if (widget[hook] !== undefined && typeof widget[hook] !== "function") {
      throw new Error(`the _esm module's ${hook} is not a function`);
    }
  }
  return widget as AnyWidget;
}

/**
 * The `model` one hook gets: its listeners are registered with `context`, so everything it
 * subscribed to is removed at once (`model.off(null, null, context)`) when its view or module
 * goes away. `on`/`off` take Backbone's event names: `change:<trait>`, `change`, `msg:custom`
 * (a custom message from the kernel: content, buffers).
 */
export function modelProxy(model: BackboneModel, context: object): AnyModel {
  return {
    get: (name) => model.get(name),
    set: (name, value) => void model.set(name, value),
    save_changes: () => model.save_changes(),
    send: (content, callbacks, buffers) => model.send(content, callbacks, buffers),
    on: (name, callback) => void model.on(name, callback, context),
    off: (name, callback) => void model.off(name ?? null, callback ?? null, context),
    widget_manager: model.widget_manager,
  };
}

/**
 * anywidget's command protocol: a custom message `{id, kind: "anywidget-command", name, msg}`
 * to the kernel, whose `@command` answers with `{id, kind: "anywidget-command-response",
 * response}`. The listener is the hook's (`context`), so it goes with the view; an answer that
 * does not come within the signal's time rejects.
 */
export function invoker(model: BackboneModel, context: object): Invoke {
  return (name, msg, options = {}) => {
    const id = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
    const signal = options.signal ?? AbortSignal.timeout(INVOKE_TIMEOUT);
    return new Promise((resolve, reject) => {
      const handler = (content: unknown, buffers?: unknown[]) => {
        if (!isObject(content) || content.id !== id || content.kind !== "anywidget-command-response") return;
        model.off("msg:custom", handler as never, context);
        resolve([content.response, buffers ?? []]);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", () => {
        model.off("msg:custom", handler as never, context);
        reject(signal.reason);
      });
      model.on("msg:custom", handler as never, context);
      model.send({ id, kind: "anywidget-command", name, msg }, undefined, options.buffers ?? []);
    });
  };
}

/** Run a hook's cleanup; one that throws only warns (the view goes anyway). */
export async function runCleanup(cleanup: Cleanup): Promise<void> {
  try {
    if (typeof cleanup === "function") await cleanup();
  } catch (error) {
    console.warn("livecells: an anywidget cleanup failed:", error);
  }
}

type Version = [number, number, number];

function parseVersion(text: string): Version | null {
  const found = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  return found ? [Number(found[1]), Number(found[2]), Number(found[3])] : null;
}

function compare(a: Version, b: Version): number {
  for (let index = 0; index < 3; index++) if (a[index] !== b[index]) return a[index] - b[index];
  return 0;
}

/** Whether `version` satisfies one comparator set of npm's semver (`^0.12`, `~0.11.*`, `1.x`,
 * `>=1.2.0 <2`, `0.12.0`). */
function satisfiesSet(set: string, version: Version): boolean {
  const parts = set.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return true;
  return parts.every((part) => {
    const found = /^(\^|~|>=|<=|>|<|=)?v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$/.exec(part);
    if (!found) return false;
    const [, op = "", ...raw] = found;
    const wild = raw.map((item) => item === undefined || /^[xX*]$/.test(item));
    const numbers = raw.map((item) => (item === undefined || /^[xX*]$/.test(item) ? 0 : Number(item))) as Version;
    const fixed = wild.indexOf(true) === -1 ? 3 : wild.indexOf(true); // parts given exactly
    const upper = (index: number): Version => {
      const bound: Version = [0, 0, 0];
      for (let i = 0; i <= index; i++) bound[i] = numbers[i];
      bound[index] += 1;
      return bound;
    };
    if (fixed === 0) return true; // *, x
    const low = compare(version, numbers);
    if (op === ">=") return low >= 0;
    if (op === ">") return low > 0;
    if (op === "<=") return low <= 0;
    if (op === "<") return low < 0;
    if (op === "^") {
      // The first non-zero part (of those given) may not change.
      let index = numbers.findIndex((n, i) => n !== 0 && i < fixed);
      if (index === -1) index = Math.max(0, Math.min(fixed, 3) - 1);
      return low >= 0 && compare(version, upper(Math.min(index, 2))) < 0;
    }
    // ~1.2.3 and ~1.2: the minor may not change; ~1: the major.
    if (op === "~") return low >= 0 && compare(version, upper(fixed >= 2 ? 1 : 0)) < 0;
    if (fixed === 3) return low === 0;
    return low >= 0 && compare(version, upper(fixed - 1)) < 0;
  });
}

/** Whether `version` (of a bundled front end) satisfies the npm `range` a kernel asks for. */
export function satisfies(range: string, version: string): boolean {
  const parsed = parseVersion(version);
  if (!parsed) return false;
  return range.split("||").some((set) => satisfiesSet(set, parsed));
}
