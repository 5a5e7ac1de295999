// The session explorer: this page's sessions, one per runtime the reader started (switching
// keeps the old one until it is closed), each with its kernel, status and last activity, and
// interrupt, restart and close.

import { button, h } from "./dom";
import { type Choice, RUNTIME_LABELS } from "./runtimes/factory";
import type { Runtime } from "./runtimes/runtime";
import { STATUS_LABELS } from "./status";

export interface Session {
  runtime: Runtime;
  choice: Choice;
  started: number;
  lastActivity: number;
}

export interface SessionActions {
  interrupt(session: Session): void;
  restart(session: Session): void;
  close(session: Session): void;
}

export class SessionExplorer {
  readonly element: HTMLDialogElement;
  private sessions: Session[] = [];
  private rows: HTMLTableSectionElement;
  private empty: HTMLElement;
  active: Session | null = null;

  constructor(private actions: SessionActions) {
    this.rows = h("tbody");
    this.empty = h("p", { className: "lc-sessions-empty" }, "No sessions yet: press Start.");
    const table = h(
      "table",
      { className: "lc-sessions-table" },
      h("thead", {}, h("tr", {}, ...["Runtime", "Kernel", "Kernel id", "Status", "Started", "Last activity", ""].map((title) => h("th", { scope: "col" }, title)))),
      this.rows,
    );
    const page = document.title.replace(/\s+[-–—|·].*$/, "").trim() || location.pathname;
    const close = button("lc-cancel", "Close", "Close the session list", () => this.element.close());
    this.element = h(
      "dialog",
      { className: "lc-dialog lc-sessions", "aria-label": "Sessions" },
      h("h2", {}, "Sessions of this page"),
      h("p", { className: "lc-sessions-page" }, `${page} (${location.pathname})`),
      this.empty,
      h("div", { className: "lc-table-scroll" }, table),
      h("div", { className: "lc-dialog-buttons" }, close),
    );
  }

  get list(): readonly Session[] {
    return this.sessions;
  }

  /** Follow a runtime's session (its status changes count as activity). */
  add(runtime: Runtime, choice: Choice): Session {
    const existing = this.sessions.find((session) => session.runtime === runtime);
    if (existing) return existing;
    const now = Date.now();
    const session: Session = { runtime, choice, started: now, lastActivity: now };
    this.sessions.push(session);
    runtime.onStatus(() => {
      session.lastActivity = Date.now();
      this.render();
    });
    this.render();
    return session;
  }

  remove(session: Session): void {
    this.sessions = this.sessions.filter((item) => item !== session);
    this.render();
  }

  open(): void {
    if (!this.element.isConnected) document.body.append(this.element);
    this.element.showModal();
    this.render();
  }

  render(): void {
    if (!this.element.open) return;
    this.empty.hidden = this.sessions.length > 0;
    this.rows.replaceChildren(
      ...this.sessions.map((session) => {
        const { runtime, choice } = session;
        const where = choice.runtime === "server" && choice.server ? ` ${choice.server.url}` : choice.runtime === "binder" && choice.binder ? ` ${choice.binder.repo}` : "";
        const status = runtime.status;
        const live = status !== "dead" && status !== "error";
        const row = h(
          "tr",
          { className: "lc-session", "data-runtime": choice.runtime, "data-status": status },
          h("td", { "data-label": "Runtime" }, RUNTIME_LABELS[choice.runtime] + where, session === this.active ? h("strong", { className: "lc-active" }, " (this page)") : null),
          h("td", { className: "lc-session-kernel", "data-label": "Kernel" }, choice.kernelName),
          h("td", { className: "lc-session-id", "data-label": "Kernel id", title: runtime.id ?? "" }, runtime.id ? runtime.id.slice(0, 8) : "in this tab"),
          h("td", { className: "lc-session-status", "data-label": "Status" }, STATUS_LABELS[status]),
          h("td", { className: "lc-session-started", "data-label": "Started" }, time(session.started)),
          h("td", { className: "lc-session-activity", "data-label": "Last activity" }, time(session.lastActivity)),
          h(
            "td",
            { className: "lc-session-actions" },
            button("lc-session-interrupt", "Interrupt", `Interrupt the ${choice.runtime} kernel`, () => this.actions.interrupt(session)),
            button("lc-session-restart", "Restart", `Restart the ${choice.runtime} kernel`, () => this.actions.restart(session)),
            button("lc-session-close", "Shut down", `Shut the ${choice.runtime} kernel down`, () => this.actions.close(session)),
          ),
        );
        row.querySelector<HTMLButtonElement>(".lc-session-interrupt")!.disabled = status !== "busy";
        row.querySelector<HTMLButtonElement>(".lc-session-restart")!.disabled = !live;
        return row;
      }),
    );
  }
}

function time(at: number): HTMLTimeElement {
  const date = new Date(at);
  return h("time", { dateTime: date.toISOString() }, date.toLocaleTimeString());
}
