// The control panel at the top of a live page: power, status, run all, interrupt, restart,
// the runtime settings and the session list, and "open in Jupyter" on server runtimes.

import { button } from "./dom";
import type { Status } from "./runtimes/runtime";

export interface PanelActions {
  power(): void;
  runAll(): void;
  interrupt(): void;
  restart(): void;
  settings(): void;
  sessions(): void;
  runPages(): void;
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
  private jupyter: HTMLAnchorElement;
  private started = false;

  constructor(actions: PanelActions, runtime: string, runtimeLabel: string, switchable: boolean) {
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
    const tools = document.createElement("span");
    tools.className = "lc-tools";
    if (switchable) tools.append(button("lc-settings-button", "⚙ Runtime", "Choose the runtime", () => actions.settings()));
    tools.append(button("lc-sessions-button", "Sessions", "This page's sessions", () => actions.sessions()));
    tools.append(button("lc-runner-button", "Run every page", "Run every page of the site (Execution Tool)", () => actions.runPages()));
    this.jupyter = document.createElement("a");
    this.jupyter.className = "lc-open-jupyter";
    this.jupyter.target = "_blank";
    this.jupyter.rel = "noopener";
    this.jupyter.textContent = "Open in Jupyter ↗";
    this.jupyter.title = "Open the Jupyter Server this page runs on, in a new tab";
    this.jupyter.hidden = true;
    tools.append(this.jupyter);
    this.element.append(tools);
    this.setRuntime(runtime, runtimeLabel);
  }

  /** The runtime the panel drives now (after a switch, too). */
  setRuntime(name: string, label: string): void {
    this.element.dataset.runtime = name;
    this.started = false;
    this.show("idle", `Press Start to run this page's code (${label})`);
  }

  /** "Open in Jupyter": the server's own UI, while a kernel there is running. */
  setJupyterLink(url: string | null): void {
    if (url) this.jupyter.href = url;
    else this.jupyter.removeAttribute("href");
    this.jupyter.hidden = !url || !this.started;
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
    this.jupyter.hidden = !started || !this.jupyter.getAttribute("href");
    if (status === "dead" || status === "error") this.started = false;
  }
}
