// The words a reader sees for each runtime status: one set, shared by the panel and the
// session list, so a status never shows raw ("idle") or twice ("Running…: running").

import type { Status } from "./runtimes/runtime";

export const STATUS_LABELS: Record<Status, string> = {
  idle: "Ready",
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

/** Statuses of a runtime on its way up. */
export const BOOTING: ReadonlySet<Status> = new Set(["connecting", "starting", "loading", "installing"]);

/** A status line. On the way up the detail names the step ("Connecting to http://…",
 * "Binder building: …"), so it is the line; an error or a stopped kernel says why after its
 * label; every other status is its label alone (its detail would only repeat it). */
export function statusText(status: Status, detail: string): string {
  if (!detail) return STATUS_LABELS[status];
  if (BOOTING.has(status)) return detail.charAt(0).toUpperCase() + detail.slice(1);
  if (status === "error" || status === "dead") return `${STATUS_LABELS[status]}: ${detail}`;
  return STATUS_LABELS[status];
}
