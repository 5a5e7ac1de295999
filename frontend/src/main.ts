// livecells on a page: reads the page's config, typesets its math, and (on live pages) mounts
// the control panel and makes each code cell runnable. page.ts calls main() as the page loads.

import { showSavedBokeh } from "./bokeh";
import { Cell, Queue } from "./cells";
import { type PageConfig, parseConfig, readConfig } from "./config";
import { type Session, SessionExplorer } from "./explorer";
import { adoptCells, panelPlace } from "./markup";
import { hasMath, typeset } from "./math";
import { type RenderOptions, updateDisplay } from "./outputs";
import { Panel } from "./panel";
import { type Choice, configuredChoice, createRuntime, runtimeLabel } from "./runtimes/factory";
import { liveSessions, MAX_SESSIONS, PyodideRuntime } from "./runtimes/pyodide";
import type { Runtime } from "./runtimes/runtime";
import { SettingsDialog, savedChoice } from "./settings";
import { renderDiagrams } from "./mermaid";
import { mountTabs } from "./tabs";
import { Widgets } from "./widgets";

/** The page waits for `livecells serve` to resolve its Pyodide wheels: nothing starts before
 * it reloads. */
function waitsForWheels(config: PageConfig, choice: Choice | null): boolean {
  return choice?.runtime === "pyodide" && config.pyodide?.preparing === true;
}

/** Reload when the page's source changes (or, if it waits for its wheels, when they are ready). */
function watchForChanges(config: PageConfig): void {
  if (!config.watch || !config.path || typeof EventSource === "undefined") return;
  const root = config.staticUrl.replace(/_livecells\/$/, "");
  const preparing = waitsForWheels(config, savedChoice(config) ?? configuredChoice(config));
  const query = `path=${encodeURIComponent(config.path)}${preparing ? "&preparing=1" : ""}`;
  const source = new EventSource(`${root}api/changes?${query}`);
  source.addEventListener("changed", () => {
    source.close();
    location.reload();
  });
}

export function main(): void {
  const config = readConfig();
  const page = document.querySelector<HTMLElement>("main.lc-page") ?? document.body;
  const options: RenderOptions = { trusted: config.trusted, math: config.math, staticUrl: config.staticUrl, widgetESM: config.allowWidgetESM };
  options.widgets = new Widgets(() => options);
  void options.widgets.showSaved(page);
  for (const prose of page.querySelectorAll<HTMLElement>(".lc-markdown, .lc-latex, .lc-markdown-output")) {
    if (hasMath(prose.textContent || "")) void typeset(prose, config.math, config.staticUrl);
  }
  mountTabs(page);
  void renderDiagrams(page);
  showSavedBokeh(page, config.trusted);
  watchForChanges(config);
  if (config.runtime === null) return;

  const queue = new Queue((cell, prompt, password) => cell.outputs.ask(prompt, password));
  const cells = adoptCells(page, config.cells).map((element) => new Cell(element, queue, options));
  if (!cells.length) return;
  const configured = configuredChoice(config);
  if (!configured) return;
  const log = (line: string) => panel.log(line);
  // The reader's own choice of runtime (settings dialog) wins over the page's, when allowed.
  let choice: Choice = savedChoice(config) ?? configured;
  let runtime: Runtime = createRuntime(choice, config, log);
  let detach: () => void = () => undefined;
  // Run all follows nbclient: cells tagged skip-execution are left for the reader to run.
  const runAll = () => cells.filter((cell) => !cell.tags.includes("skip-execution")).forEach((cell) => queue.run(cell));
  // Pyodide takes seconds to fetch and compile: with `preload` it boots when the page opens
  // (no cell runs before the reader asks), so Start finds Python ready.
  let powered = false;
  // `livecells serve` still resolving this page's wheels: nothing starts before it reloads.
  const preparing = waitsForWheels(config, choice);
  let preloading: Promise<void> | null =
    runtime instanceof PyodideRuntime && config.pyodide?.preload !== false && !preparing ? runtime.start() : null;
  preloading?.catch(() => undefined);

  const power = () => {
    powered = true;
    const current = runtime;
    explorer.active = explorer.add(current, choice);
    if (current.status !== "idle" && current.status !== "error") panel.show(current.status, "");
    // A failed preload is retried once the reader asks.
    const starting = preloading ? preloading.catch(() => current.start()) : current.start();
    preloading = null;
    starting
      .then(() => {
        if (current !== runtime) return; // switched away meanwhile
        queue.runtime = current;
        cells.forEach((cell) => cell.setEnabled(true));
        panel.setJupyterLink(current.jupyterUrl ?? (choice.runtime === "livecells" ? config.openInJupyter : null));
        if (config.autoRun) runAll();
      })
      .catch((error: Error) => console.error("livecells:", error.message));
  };

  const attach = (next: Runtime) => {
    detach();
    detach = next.onStatus((status, detail) => {
      if (!powered) return; // a preload works quietly until the reader presses Start
      panel.show(status, detail);
      if (status === "dead" || status === "error") {
        queue.drop();
        queue.runtime = null;
        cells.forEach((cell) => cell.setEnabled(false));
      }
    });
    next.onDisplayUpdate((msg) => updateDisplay(msg, options));
    options.widgets?.attach(next);
  };

  /** Move the page to another runtime: the cells (and the reader's edits) stay as they are,
   * new runs go to the new runtime, and the old session lives on until closed. */
  const switchTo = (next: Choice) => {
    queue.drop();
    queue.runtime = null;
    cells.forEach((cell) => cell.setEnabled(false));
    choice = next;
    runtime = createRuntime(next, config, log);
    attach(runtime);
    panel.setRuntime(next.runtime, runtimeLabel(next.runtime, config));
    panel.setJupyterLink(null);
    power();
  };

  const isActive = (session: Session) => session.runtime === runtime;
  const explorer = new SessionExplorer({
    interrupt: (session) => {
      if (isActive(session)) queue.drop();
      void session.runtime.interrupt();
    },
    restart: (session) => {
      if (isActive(session)) queue.drop();
      void session.runtime.restart();
    },
    close: (session) => {
      if (isActive(session)) queue.drop();
      explorer.remove(session);
      void session.runtime.shutdown();
    },
  });
  let settings: SettingsDialog | null = null;
  let runner: Promise<import("./runner").PageRunner> | null = null;

  const panel = new Panel(
    {
      power,
      runAll,
      interrupt: () => {
        queue.drop();
        void runtime.interrupt();
      },
      restart: () => {
        queue.drop();
        void runtime.restart();
      },
      settings: () => {
        settings ??= new SettingsDialog(config, switchTo);
        settings.open(choice);
      },
      sessions: () => explorer.open(),
      runPages: () => {
        runner ??= import("./runner").then(
          ({ PageRunner }) =>
            new PageRunner(() => choice, {
              createRuntime: (next, pageConfig, base) => createRuntime(next, pageConfig, () => undefined, base),
              parseConfig,
              liveSessions,
              maxSessions: MAX_SESSIONS,
            }),
        );
        void runner.then((tool) => tool.open());
      },
    },
    choice.runtime,
    runtimeLabel(choice.runtime, config),
    config.runtimes.length > 1,
  );
  const place = panelPlace(document);
  place.parent.insertBefore(panel.element, place.before);
  if (place.before?.matches(".thebe-launch-button")) place.before.remove();
  cells.forEach((cell) => cell.setEnabled(false));
  attach(runtime);
  // sphinx-thebe's entry point (its launch buttons, sphinx-book-theme's "Live Code") starts ours.
  if (config.cells) {
    (window as unknown as { initThebe: () => void }).initThebe = () => {
      document.querySelectorAll(".thebe-launch-button").forEach((button) => button.remove());
      if (!powered) power();
    };
  }
  if (preparing) {
    const reload = config.watch ? "this page reloads when they are ready" : "reload the page in a minute";
    panel.wait(`Preparing this page's Python packages on the server (its requirements): ${reload}`);
  }
  (window as unknown as { livecells: unknown }).livecells = {
    config,
    queue,
    cells,
    widgets: options.widgets,
    panel,
    explorer,
    switchTo,
    get runner() {
      return runner;
    },
    get runtime() {
      return runtime;
    },
  };
}

