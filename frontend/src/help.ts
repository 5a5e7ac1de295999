// The editor's help from the kernel: completions (complete_request) and documentation
// (inspect_request), on every runtime. The replies are judged here (pure functions, unit
// tested); editor.ts shows them.

import type { JSONObject } from "./protocol";
import type { Runtime } from "./runtimes/runtime";

export interface Completions {
  /** The span of the document the chosen label replaces. */
  from: number;
  to: number;
  labels: string[];
}

export interface EditorHelp {
  complete(code: string, cursor: number): Promise<Completions | null>;
  /** Plain text documentation of the name at `cursor`, or null. */
  inspect(code: string, cursor: number): Promise<string | null>;
}

/** Tab completes (rather than indents) right after a (dotted) name. */
export function wantsCompletion(lineBefore: string): boolean {
  return /(^|[^\w.])[A-Za-z_][\w.]*$/.test(lineBefore);
}

/** A complete_reply as the range it replaces and its labels, or null for a reply that is not
 * one (or offers nothing). A kernel that replaces the whole dotted name (`os.path.join` for
 * `os.path.jo`, as rlcompleter does) is shown as the last part (`join`). */
export function completionRange(code: string, cursor: number, reply: JSONObject): Completions | null {
  const { matches, cursor_start: start, cursor_end: end } = reply;
  if (reply.status !== "ok" || !Array.isArray(matches) || !matches.length) return null;
  if (!matches.every((match): match is string => typeof match === "string")) return null;
  if (!Number.isInteger(start) || !Number.isInteger(end)) return null;
  let from = start as number;
  const to = end as number;
  if (from < 0 || from > to || to > code.length) return null;
  let labels = [...new Set(matches)];
  const typed = code.slice(from, Math.min(cursor, to));
  const dot = typed.lastIndexOf(".");
  if (dot >= 0) {
    const prefix = typed.slice(0, dot + 1);
    if (labels.every((label) => label.startsWith(prefix))) {
      labels = labels.map((label) => label.slice(prefix.length));
      from += prefix.length;
    }
  }
  return { from, to, labels };
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const MAX_HELP = 4000;

/** An inspect_reply's `text/plain` without terminal colours, or null when nothing was found. */
export function inspectText(reply: JSONObject): string | null {
  if (reply.status !== "ok" || reply.found !== true) return null;
  const data = reply.data as JSONObject | undefined;
  const text = data?.["text/plain"];
  if (typeof text !== "string") return null;
  const plain = text.replace(ANSI, "").trim();
  if (!plain) return null;
  return plain.length > MAX_HELP ? `${plain.slice(0, MAX_HELP - 1)}…` : plain;
}

const ASKS = new Set(["ready", "idle", "busy"]);

/** Help from whichever runtime the page has now; nothing while none is running. */
export function kernelHelp(runtime: () => Runtime | null): EditorHelp {
  const running = () => {
    const current = runtime();
    return current && ASKS.has(current.status) ? current : null;
  };
  return {
    async complete(code, cursor) {
      const current = running();
      if (!current) return null;
      try {
        return completionRange(code, cursor, await current.help("complete_request", { code, cursor_pos: cursor }));
      } catch {
        return null;
      }
    },
    async inspect(code, cursor) {
      const current = running();
      if (!current) return null;
      try {
        return inspectText(await current.help("inspect_request", { code, cursor_pos: cursor, detail_level: 0 }));
      } catch {
        return null;
      }
    },
  };
}
