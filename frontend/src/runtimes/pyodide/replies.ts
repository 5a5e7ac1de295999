// The worker kernel's answers that need no Python: kernel_info, and the requests it answers
// honestly empty (complete and inspect too, while Python is not up).

import type { JSONObject } from "../../protocol";

/** kernel_info_reply's content, for Python `python` (its version) in Pyodide `pyodide`. */
export function kernelInfo(python: string, pyodide: string): JSONObject {
  return {
    status: "ok",
    protocol_version: "5.3",
    implementation: "livecells-pyodide",
    implementation_version: pyodide,
    language_info: {
      name: "python",
      version: python,
      mimetype: "text/x-python",
      file_extension: ".py",
      codemirror_mode: { name: "ipython", version: 3 },
      pygments_lexer: "ipython3",
      nbconvert_exporter: "python",
    },
    banner: `Python ${python} (Pyodide ${pyodide}) in livecells`,
    help_links: [],
  };
}

/** The reply to comm_info, complete, inspect, history, is_complete (and any other request):
 * status ok, nothing found. */
export function emptyReply(type: string): JSONObject {
  return { status: "ok", ...emptyContent(type) };
}

function emptyContent(type: string): JSONObject {
  switch (type) {
    case "comm_info_request":
      return { comms: {} };
    case "complete_request":
      return { matches: [], cursor_start: 0, cursor_end: 0, metadata: {} };
    case "inspect_request":
      return { found: false, data: {}, metadata: {} };
    case "is_complete_request":
      return { status: "unknown" };
    case "history_request":
      return { history: [] };
    default:
      return {};
  }
}
