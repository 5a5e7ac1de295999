// The control panel at the top of a live page: power, status, run all, interrupt, restart,
// and "open in Jupyter" on server runtimes.

import { button } from "./cells";
import type { Status } from "./runtimes/runtime";

export interface PanelActions {
  power(): void;
  runAll(): void;
  interrupt(): void;
  restart(): void;
}

const LABELS: Record<Status, string> = {
  idle: "Idle",
  connecting: "Connecting…",
  starting: "Starting the kernel…",
  loading: "Loading Python…",
  installing: "Installing packages…",
  ready: "Ready",
  busy: "Running…",
  restarting: "Restarting…",
  error: "Error",
  disconnected: "Reconnecting…",
  dead: "Kernel stopped",
};

export class Panel {
  readonly element: HTMLElement;
  private statusText: HTMLElement;
  private power: HTMLButtonElement;
  private runAll: HTMLButtonElement;
  private interrupt: HTMLButtonElement;
  private restart: HTMLButtonElement;
  private jupyter: HTMLAnchorElement | null = null;
  private started = false;

  constructor(actions: PanelActions, runtimeName: string, openInJupyter: string | null) {
    this.element = document.createElement("div");
    this.element.className = "lc-panel";
    this.element.setAttribute("role", "toolbar");
    this.element.setAttribute("aria-label", "Live code");
    this.power = button("lc-power", "Start", "Start kernel", () => actions.power());
    this.runAll = button("lc-run-all", "▶▶ Run all", "Run all cells", () => actions.runAll());
    this.interrupt = button("lc-interrupt", "■ Interrupt", "Interrupt the running cell", () => actions.interrupt());
    this.restart = button("lc-restart", "↻ Restart", "Restart the kernel", () => actions.restart());
    this.statusText = document.createElement("span");
    this.statusText.className = "lc-status";
    this.statusText.setAttribute("role", "status");
    this.statusText.setAttribute("aria-live", "polite");
    this.element.append(this.power, this.runAll, this.interrupt, this.restart, this.statusText);
    if (openInJupyter) {
      this.jupyter = document.createElement("a");
      this.jupyter.className = "lc-open-jupyter";
      this.jupyter.href = openInJupyter;
      this.jupyter.target = "_blank";
      this.jupyter.rel = "noopener";
      this.jupyter.textContent = "Open in Jupyter";
      this.jupyter.hidden = true;
      this.element.append(this.jupyter);
    }
    this.show("idle", `Press Start to run this page's code (${runtimeName})`);
  }

  private logBox: HTMLPreElement | null = null;

  /** A line of a runtime's start-up log (Binder's build), in a box under the panel. */
  log(line: string): void {
    if (!this.logBox) {
      const details = document.createElement("details");
      details.className = "lc-log";
      details.open = true;
      const summary = document.createElement("summary");
      summary.textContent = "Build log";
      this.logBox = document.createElement("pre");
      this.logBox.setAttribute("role", "log");
      details.append(summary, this.logBox);
      this.element.append(details);
    }
    this.logBox.textContent += `${line}\n`;
    this.logBox.scrollTop = this.logBox.scrollHeight;
  }

  show(status: Status, detail: string): void {
    this.element.dataset.status = status;
    const live = status === "ready" || status === "idle" || status === "busy";
    if (status === "ready") this.started = true;
    const started = this.started && status !== "dead" && status !== "error";
    this.statusText.textContent = detail && (status === "error" || status === "dead" || !started)
      ? `${LABELS[status]}: ${detail}`
      : LABELS[status];
    if (!this.started && status === "idle") this.statusText.textContent = detail;
    const booting = status === "connecting" || status === "starting" || status === "loading" || status === "installing";
    this.power.disabled = started || booting;
    this.power.textContent = status === "dead" || status === "error" ? "Start again" : "Start";
    this.runAll.disabled = !started || !live;
    this.interrupt.disabled = !started || status !== "busy";
    this.restart.disabled = !started || status === "restarting" || status === "disconnected";
    if (this.jupyter) this.jupyter.hidden = !started;
    if (status === "dead" || status === "error") this.started = false;
  }
}
