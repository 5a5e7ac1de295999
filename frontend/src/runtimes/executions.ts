// The executions a runtime waits on, by the msg_id of their execute_request. An execution is
// complete when both its execute_reply and its iopub `status: idle` have arrived, in either
// order (as the Python side's Kernel contract says); its other iopub messages go to its
// callbacks as they come. A dead, restarted or shut-down kernel fails every one still waiting.

import type { Message } from "../protocol";
import type { ExecuteCallbacks, ExecuteReply } from "./runtime";

interface Pending {
  callbacks: ExecuteCallbacks;
  reply: ExecuteReply | null;
  idle: boolean;
  resolve(reply: ExecuteReply): void;
  reject(error: Error): void;
}

export class Executions {
  private pending = new Map<string, Pending>();

  /** `onSettled` runs after each execution completes (the runtime may then report idle). */
  constructor(private onSettled: () => void = () => undefined) {}

  get size(): number {
    return this.pending.size;
  }

  /** Wait for the execution of the request `msgId`. */
  add(msgId: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(msgId, { callbacks, reply: null, idle: false, resolve, reject });
    });
  }

  /** The callbacks of a waiting execution (for its input requests). */
  callbacks(msgId: string | undefined): ExecuteCallbacks | undefined {
    return msgId === undefined ? undefined : this.pending.get(msgId)?.callbacks;
  }

  /** Fail one execution (its request could not be sent). */
  cancel(msgId: string, error: Error): void {
    const pending = this.pending.get(msgId);
    if (!pending) return;
    this.pending.delete(msgId);
    pending.reject(error);
  }

  /** Fail every waiting execution with `error`. */
  failAll(error: Error): void {
    for (const [msgId, pending] of this.pending) {
      this.pending.delete(msgId);
      pending.reject(error);
    }
  }

  /**
   * Route a message of a waiting execution (found by its parent's msg_id): iopub `status: idle`
   * and the shell execute_reply complete it, other iopub messages (except status) go to its
   * `onIOPub`. Returns false for a message of no waiting execution, which is left alone.
   */
  receive(msg: Message): boolean {
    const msgId = msg.parent_header.msg_id;
    const pending = msgId === undefined ? undefined : this.pending.get(msgId);
    if (!msgId || !pending) return false;
    const type = msg.header.msg_type;
    if (msg.channel === "iopub") {
      if (type !== "status") pending.callbacks.onIOPub(msg);
      else if (msg.content.execution_state === "idle") {
        pending.idle = true;
        this.settle(msgId, pending);
      }
    } else if (msg.channel === "shell" && type === "execute_reply") {
      pending.reply = executeReply(msg);
      this.settle(msgId, pending);
    }
    return true;
  }

  private settle(msgId: string, pending: Pending): void {
    if (!pending.reply || !pending.idle) return;
    this.pending.delete(msgId);
    pending.resolve(pending.reply);
    this.onSettled();
  }
}

/** An execute_reply's status (`ok`, `aborted`, else `error`), execution count and content. */
export function executeReply(msg: Message): ExecuteReply {
  const content = msg.content;
  const status = content.status === "ok" || content.status === "aborted" ? content.status : "error";
  return { status, executionCount: (content.execution_count as number | null | undefined) ?? null, content };
}
