// One interface for every runtime, mirroring the Python Kernel contract. `loading` (fetching
// and compiling Pyodide) and `installing` (packages) are the Pyodide runtime's boot phases.

import { type JSONObject, type Message, newMessage } from "../protocol";
import { BaseRuntime } from "./base";

/** The runtimes, named as in the config (`project.livecells.runtime`). */
export type RuntimeName = "livecells" | "server" | "binder" | "pyodide";

export type Status =
  | "idle"
  | "connecting"
  | "starting"
  | "loading"
  | "installing"
  | "ready"
  | "busy"
  | "restarting"
  | "error"
  | "disconnected"
  | "dead";

export type StatusListener = (status: Status, detail: string) => void;

export interface ExecuteCallbacks {
  /** Every iopub message of this execution (stream, display_data, execute_result, error,
   * clear_output, update_display_data, execute_input). */
  onIOPub(msg: Message): void;
  /** input() / getpass(): resolve with the reader's answer. */
  onInput?(prompt: string, password: boolean): Promise<string>;
  /** Abort the cells queued behind this one in the kernel if it fails (default true). */
  stopOnError?: boolean;
}

export interface ExecuteReply {
  status: "ok" | "error" | "aborted";
  executionCount: number | null;
  content: JSONObject;
}

/** The editor's questions to the kernel (completion, documentation). */
export type HelpRequest = "complete_request" | "inspect_request";

export interface Runtime {
  readonly name: string;
  readonly status: Status;
  /** The UI of the Jupyter Server the kernel runs on, for "open in Jupyter" (server, Binder). */
  readonly jupyterUrl?: string | null;
  /** The kernel's id on its server (server, Binder, livecells); none for an in-browser kernel. */
  readonly id?: string | null;
  onStatus(listener: StatusListener): () => void;
  /** Start (or re-attach to) a kernel; resolves once it answered kernel_info. */
  start(): Promise<void>;
  execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply>;
  interrupt(): Promise<void>;
  restart(): Promise<void>;
  shutdown(): Promise<void>;
  /** A complete_request or inspect_request (`code`, `cursor_pos`): its reply's content. */
  help(type: HelpRequest, content: JSONObject): Promise<JSONObject>;
  /** Updates to a display_id, wherever it was first shown. */
  onDisplayUpdate(listener: (msg: Message) => void): () => void;
  /** Every iopub message, before its execution sees it (comms, widget output capture): a hook
   * that returns true takes it, a promise holds later messages until it settles (status
   * messages go on to their execution regardless). */
  onMessage(hook: MessageHook): () => void;
  /** Send a comm message to the kernel; returns its msg_id (throws on a runtime without comms). */
  sendComm(type: CommMessageType, content: JSONObject, metadata?: JSONObject, buffers?: ArrayBuffer[]): string;
}

export type MessageHook = (msg: Message) => boolean | Promise<boolean>;

export type CommMessageType = "comm_open" | "comm_msg" | "comm_close";

/** The execute_request every runtime sends for a cell. */
export function executeRequest(code: string, callbacks: ExecuteCallbacks, session: string): Message {
  const content: JSONObject = {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: Boolean(callbacks.onInput),
    stop_on_error: callbacks.stopOnError ?? true,
  };
  return newMessage("shell", "execute_request", content, session);
}

/** A runtime this build cannot provide: it says so instead of pretending. */
export class UnavailableRuntime extends BaseRuntime {
  constructor(readonly name: string, private reason: string) {
    super();
  }
  async start(): Promise<void> {
    this.setStatus("error", this.reason);
    throw new Error(this.reason);
  }
  execute(): Promise<ExecuteReply> {
    return Promise.reject(new Error(this.reason));
  }
  async interrupt(): Promise<void> {}
  async restart(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
