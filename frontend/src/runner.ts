// The Execution Tool: "Run every page" runs each page of the site in a fresh session of the
// runtime this page uses (up to three at once, the Pyodide limit of a page), and shows a table:
// page, status, cells, time, and the first error with a link to its page. Loaded on first use.

import type { PageConfig } from "./config";
import { button, h } from "./dom";
import type { Choice } from "./runtimes/factory";
import type { Runtime } from "./runtimes/runtime";

/** What the tool borrows from the page's bundle (passed in, so that this lazy chunk does not
 * pull the runtimes into a chunk of their own that every page would then load). */
export interface RunnerDeps {
  createRuntime(choice: Choice, config: PageConfig, base: string): Runtime;
  parseConfig(text: string | null): PageConfig;
  liveSessions(): number;
  maxSessions: number;
}

/** Seconds a page may run before its running cell is interrupted and it fails. */
export const PAGE_TIMEOUT = 120;

export type RowStatus = "waiting" | "running" | "passed" | "failed" | "no code";

export interface PageRun {
  url: string;
  title: string;
  status: RowStatus;
  cells: number;
  total: number;
  seconds: number;
  error: string;
  errorCell: number | null;
}

interface PageCell {
  /** The cell's index in its notebook (``data-cell-index``). */
  index: number;
  source: string;
  tags: string[];
}

/** The site's pages, as the table of contents links them (this page included), in order. */
export function sitePages(root: ParentNode = document): { url: string; title: string }[] {
  const seen = new Set<string>();
  const pages: { url: string; title: string }[] = [];
  for (const link of root.querySelectorAll<HTMLAnchorElement>("nav.lc-toc a[href]")) {
    const url = new URL(link.getAttribute("href") ?? "", document.baseURI);
    url.hash = "";
    if (url.origin !== location.origin || seen.has(url.href)) continue;
    seen.add(url.href);
    pages.push({ url: url.href, title: link.textContent?.trim() || url.pathname });
  }
  return pages;
}

export class PageRunner {
  readonly element: HTMLDialogElement;
  readonly runs: PageRun[] = [];
  private rows: HTMLTableSectionElement;
  private start: HTMLButtonElement;
  private summary: HTMLElement;
  /** How many pages ran at the same time, at most, in the last run (for the curious and tests). */
  peak = 0;
  /** Seconds a page may run (an endless loop on a page must not hold the tool forever). */
  pageTimeout = PAGE_TIMEOUT;

  constructor(
    private choice: () => Choice,
    private deps: RunnerDeps,
  ) {
    this.rows = h("tbody");
    this.summary = h("p", { className: "lc-runner-summary", role: "status" }, "Runs every page of the site in a fresh session.");
    this.start = button("lc-runner-start", "▶ Run every page", "Run every page of the site", () => void this.runAll());
    const table = h(
      "table",
      { className: "lc-runner-table" },
      h("thead", {}, h("tr", {}, ...["Page", "Status", "Cells", "Time", "First error"].map((title) => h("th", { scope: "col" }, title)))),
      this.rows,
    );
    const close = button("lc-cancel", "Close", "Close the Execution Tool", () => this.element.close());
    this.element = h(
      "dialog",
      { className: "lc-dialog lc-runner", "aria-label": "Run every page" },
      h("h2", {}, "Run every page"),
      this.summary,
      table,
      h("div", { className: "lc-dialog-buttons" }, this.start, close),
    );
  }

  open(): void {
    if (!this.element.isConnected) document.body.append(this.element);
    if (!this.element.open) this.element.showModal();
  }

  async runAll(): Promise<PageRun[]> {
    this.start.disabled = true;
    this.runs.length = 0;
    this.peak = 0;
    for (const page of sitePages()) {
      this.runs.push({ ...page, status: "waiting", cells: 0, total: 0, seconds: 0, error: "", errorCell: null });
    }
    this.render();
    const choice = this.choice();
    // Pyodide allows three sessions per page, this page's own among them.
    const { maxSessions, liveSessions } = this.deps;
    const width = choice.runtime === "pyodide" ? Math.max(1, maxSessions - liveSessions()) : maxSessions;
    let next = 0;
    let running = 0;
    const worker = async () => {
      while (next < this.runs.length) {
        const run = this.runs[next++];
        running += 1;
        this.peak = Math.max(this.peak, running);
        try {
          await this.runPage(run, choice);
        } finally {
          running -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, this.runs.length) }, worker));
    const failed = this.runs.filter((run) => run.status === "failed").length;
    this.summary.textContent = `${this.runs.length} pages: ${failed} failed, ${this.runs.length - failed} passed or without code`;
    this.start.disabled = false;
    return this.runs;
  }

  private async runPage(run: PageRun, choice: Choice): Promise<void> {
    run.status = "running";
    this.render();
    const began = performance.now();
    let runtime: Runtime | null = null;
    try {
      const { cells, config } = await readPage(run.url, this.deps.parseConfig);
      run.total = cells.filter((cell) => !cell.tags.includes("skip-execution")).length;
      if (!config.runtime || !run.total) {
        run.status = "no code";
        return;
      }
      const own: Choice = { ...choice, kernelName: config.kernelName };
      runtime = this.deps.createRuntime(own, config, run.url);
      const session = runtime;
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        void session.interrupt();
      }, this.pageTimeout * 1000);
      try {
        await runtime.start();
        run.status = "passed";
        for (const cell of cells) {
          if (cell.tags.includes("skip-execution")) continue;
          const allowed = cell.tags.includes("raises-exception");
          let error = "";
          const reply = await runtime.execute(cell.source, {
            onIOPub: (msg) => {
              if (msg.header.msg_type === "error") error = `${msg.content.ename}: ${msg.content.evalue}`;
            },
            stopOnError: !allowed,
          });
          run.cells += 1;
          this.render();
          if (reply.status !== "ok" && !allowed) {
            run.status = "failed";
            run.error = late
              ? `did not finish within ${this.pageTimeout} s: interrupted`
              : error || `the cell ended with status ${reply.status}`;
            run.errorCell = cell.index;
            break;
          }
        }
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      run.status = "failed";
      run.error = (error as Error).message;
    } finally {
      run.seconds = (performance.now() - began) / 1000;
      if (runtime) await runtime.shutdown().catch(() => undefined);
      this.render();
    }
  }

  private render(): void {
    this.rows.replaceChildren(
      ...this.runs.map((run) => {
        const link = h("a", { href: run.url }, run.title);
        const where = run.errorCell === null ? run.url : `${run.url}#cell-${run.errorCell}`;
        const error = run.error
          ? h("a", { href: where, className: "lc-runner-error" }, run.errorCell === null ? run.error : `cell ${run.errorCell}: ${run.error}`)
          : "";
        return h(
          "tr",
          { "data-status": run.status },
          h("td", {}, link),
          h("td", { className: "lc-runner-status" }, run.status),
          h("td", {}, run.total ? `${run.cells}/${run.total}` : ""),
          h("td", {}, run.seconds ? `${run.seconds.toFixed(1)} s` : ""),
          h("td", {}, error),
        );
      }),
    );
  }
}

/** A page's code cells and config, from its HTML (as livecells wrote it). */
async function readPage(
  url: string,
  parseConfig: (text: string | null) => PageConfig,
): Promise<{ cells: PageCell[]; config: PageConfig }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const html = new DOMParser().parseFromString(await response.text(), "text/html");
  const config = parseConfig(html.getElementById("livecells-config")?.textContent ?? null);
  const cells = [...html.querySelectorAll<HTMLElement>(".lc-cell")].map((element) => ({
    index: Number(element.dataset.cellIndex ?? 0),
    source: element.querySelector("pre.lc-source")?.textContent ?? "",
    tags: (element.dataset.tags || "").split(/\s+/).filter(Boolean),
  }));
  return { cells, config };
}
