// The control panel at the top of a live page: power, status, run all, interrupt, restart,
// the runtime settings and the session list, and "open in Jupyter" on server runtimes.

import { button } from "./dom";
import { type IconName, icon } from "./icons";
import type { Status } from "./runtimes/runtime";
import { BOOTING, statusText } from "./status";

export interface PanelActions {
  power(): void;
  runAll(): void;
  interrupt(): void;
  restart(): void;
  settings(): void;
  sessions(): void;
  runPages(): void;
}

/** A panel button: an icon and a text label (hidden on narrow screens, where the icon, the
 * accessible name and the tooltip remain). */
function tool(className: string, name: IconName, label: string, aria: string, onClick: () => void): HTMLButtonElement {
  const element = button(className, "", aria, onClick);
  element.append(icon(name), labelSpan(label));
  return element;
}

function labelSpan(text: string): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = "lc-label";
  span.textContent = text;
  return span;
}

export class Panel {
  readonly element: HTMLElement;
  private statusText: HTMLElement;
  private power: HTMLButtonElement;
  private powerLabel: HTMLElement;
  private runAll: HTMLButtonElement;
  private interrupt: HTMLButtonElement;
  private restart: HTMLButtonElement;
  private jupyter: HTMLAnchorElement;
  private started = false;
  private booting = false;

  constructor(actions: PanelActions, runtime: string, runtimeLabel: string, switchable: boolean) {
    this.element = document.createElement("div");
    this.element.className = "lc-panel";
    this.element.setAttribute("role", "toolbar");
    this.element.setAttribute("aria-label", "Live code");
    this.power = tool("lc-power", "power", "Start", "Start kernel", () => actions.power());
    this.powerLabel = this.power.querySelector(".lc-label") as HTMLElement;
    this.runAll = tool("lc-run-all", "runAll", "Run all", "Run all cells", () => actions.runAll());
    this.interrupt = tool("lc-interrupt", "interrupt", "Interrupt", "Interrupt the running cell", () => actions.interrupt());
    this.restart = tool("lc-restart", "restart", "Restart", "Restart the kernel", () => actions.restart());
    this.statusText = document.createElement("span");
    this.statusText.className = "lc-status";
    this.statusText.setAttribute("role", "status");
    this.statusText.setAttribute("aria-live", "polite");
    this.element.append(this.power, this.runAll, this.interrupt, this.restart, this.statusText);
    const tools = document.createElement("span");
    tools.className = "lc-tools";
    if (switchable) tools.append(tool("lc-settings-button", "settings", "Runtime", "Choose the runtime", () => actions.settings()));
    tools.append(tool("lc-sessions-button", "sessions", "Sessions", "This page's sessions", () => actions.sessions()));
    tools.append(tool("lc-runner-button", "pages", "Run every page", "Run every page of the site (Execution Tool)", () => actions.runPages()));
    this.jupyter = document.createElement("a");
    this.jupyter.className = "lc-open-jupyter";
    this.jupyter.target = "_blank";
    this.jupyter.rel = "noopener";
    this.jupyter.title = "Open the Jupyter Server this page runs on, in a new tab";
    this.jupyter.setAttribute("aria-label", "Open in Jupyter (new tab)");
    this.jupyter.append(icon("external"), labelSpan("Open in Jupyter"));
    this.jupyter.hidden = true;
    tools.append(this.jupyter);
    this.element.append(tools);
    this.setRuntime(runtime, runtimeLabel);
  }

  /** The runtime the panel drives now (after a switch, too). */
  setRuntime(name: string, label: string): void {
    this.element.dataset.runtime = name;
    this.started = false;
    this.booting = false;
    this.show("idle", "");
    // Before Start: where the code will run; the hint before it gives way on a phone.
    const hint = document.createElement("span");
    hint.className = "lc-hint";
    hint.textContent = "Press Start to run this page's code on ";
    this.statusText.replaceChildren(hint, label);
    this.statusText.title = `Press Start to run this page's code on ${label}`;
  }

  /** The page cannot start yet (the server is still resolving its packages): say why, and
   * keep Start disabled until the page reloads. */
  wait(reason: string): void {
    this.element.dataset.status = "preparing";
    this.statusText.textContent = reason;
    this.statusText.title = reason;
    this.power.disabled = true;
  }

  /** "Open in Jupyter": the server's own UI, while a kernel there is running. */
  setJupyterLink(url: string | null): void {
    if (url) this.jupyter.href = url;
    else this.jupyter.removeAttribute("href");
    this.jupyter.hidden = !url || !this.started;
  }

  private logBox: HTMLPreElement | null = null;
  private logPanel: HTMLDetailsElement | null = null;

  /** A line of a runtime's start-up log (Binder's build): in a panel of its own under the
   * control panel, open while the build runs and closed once the kernel is ready. */
  log(line: string): void {
    if (!this.logBox || !this.logPanel) {
      this.logPanel = document.createElement("details");
      this.logPanel.className = "lc-log";
      this.logPanel.open = true;
      const summary = document.createElement("summary");
      summary.textContent = "Build log";
      this.logBox = document.createElement("pre");
      this.logBox.setAttribute("role", "log");
      this.logBox.tabIndex = 0;
      this.logPanel.append(summary, this.logBox);
      this.element.after(this.logPanel);
    }
    this.logBox.textContent += `${line}\n`;
    this.logBox.scrollTop = this.logBox.scrollHeight;
  }

  show(status: Status, detail: string): void {
    this.element.dataset.status = status;
    const live = status === "ready" || status === "idle" || status === "busy";
    if (status === "ready") {
      this.started = true;
      this.booting = false;
      if (this.logPanel) this.logPanel.open = false;
    }
    if (BOOTING.has(status)) this.booting = true;
    const started = this.started && status !== "dead" && status !== "error";
    // While a kernel starts, its first busy/idle (kernel_info) is not news: the start-up line stays.
    const quiet = this.booting && !this.started && (status === "busy" || status === "idle");
    if (!quiet) {
      const text = statusText(status, detail);
      this.statusText.textContent = text;
      this.statusText.title = text;
    }
    const booting = BOOTING.has(status);
    this.power.disabled = started || booting;
    const again = status === "dead" || status === "error";
    this.powerLabel.textContent = again ? "Start again" : "Start";
    this.power.setAttribute("aria-label", again ? "Start the kernel again" : "Start kernel");
    this.power.title = this.power.getAttribute("aria-label") ?? "";
    this.runAll.disabled = !started || !live;
    this.interrupt.disabled = !started || status !== "busy";
    this.restart.disabled = !started || status === "restarting" || status === "disconnected";
    this.jupyter.hidden = !started || !this.jupyter.getAttribute("href");
    if (status === "dead" || status === "error") {
      this.started = false;
      this.booting = false;
    }
  }
}
