// What every runtime has in common: a status its listeners hear about, and the listeners of
// display updates (an `update_display_data` changes a display wherever it was first shown).
// Each runtime adds what is its own: how it starts a kernel and how messages reach it.

import type { JSONObject, Message } from "../protocol";
import type { CommMessageType, ExecuteCallbacks, ExecuteReply, HelpRequest, MessageHook, Runtime, Status, StatusListener } from "./runtime";

export abstract class BaseRuntime implements Runtime {
  abstract readonly name: string;
  private current: Status = "idle";
  private statusListeners = new Set<StatusListener>();
  private displayListeners = new Set<(msg: Message) => void>();
  private messageHooks = new Set<MessageHook>();
  private held: Message[] | null = null;

  get status(): Status {
    return this.current;
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onDisplayUpdate(listener: (msg: Message) => void): () => void {
    this.displayListeners.add(listener);
    return () => this.displayListeners.delete(listener);
  }

  onMessage(hook: MessageHook): () => void {
    this.messageHooks.add(hook);
    return () => this.messageHooks.delete(hook);
  }

  /** Send a comm message (comm_open, comm_msg, comm_close) on the shell channel; its msg_id.
   * A runtime without comms (Pyodide) refuses. */
  sendComm(type: CommMessageType, content: JSONObject, metadata: JSONObject = {}, buffers: ArrayBuffer[] = []): string {
    void type;
    void content;
    void metadata;
    void buffers;
    throw new Error(`runtime ${this.name} has no comms (Jupyter widgets need a Jupyter kernel)`);
  }

  /**
   * Hand a received message on: an iopub message is offered to the message hooks first (in
   * order; the first that answers other than false has it). A hook that answers with a promise
   * (the widget manager still loading, or applying a comm message an Output widget's capture
   * depends on) holds every later message until it settles, so they keep their order, as
   * JupyterLab's kernel connection chains its message handling. An untaken message, and every
   * status message, goes on to `dispatch`.
   */
  protected route(msg: Message, dispatch: (msg: Message) => void): void {
    if (this.held) {
      this.held.push(msg);
      return;
    }
    const answer = msg.channel === "iopub" ? this.offer(msg) : false;
    const status = msg.header.msg_type === "status";
    if (typeof answer === "boolean") {
      if (!answer || status) dispatch(msg);
      return;
    }
    this.held = [];
    void answer
      .catch(() => false)
      .then((taken) => {
        if (!taken || status) dispatch(msg);
        const later = this.held ?? [];
        this.held = null;
        for (const next of later) this.route(next, dispatch);
      });
  }

  /** The message hooks' answer for one message (see `route`). */
  protected offer(msg: Message): boolean | Promise<boolean> {
    for (const hook of this.messageHooks) {
      const answer = hook(msg);
      if (answer !== false) return answer;
    }
    return false;
  }

  /** Change the status and tell the listeners (every time, even when it is the same). */
  protected setStatus(status: Status, detail = ""): void {
    this.current = status;
    for (const listener of this.statusListeners) listener(status, detail);
  }

  /** Hand an `update_display_data` to the display listeners. */
  protected displayUpdate(msg: Message): void {
    for (const listener of this.displayListeners) listener(msg);
  }

  /** No kernel to ask: the editor offers no help (a runtime with a kernel overrides this). */
  help(type: HelpRequest, _content: JSONObject): Promise<JSONObject> {
    return Promise.reject(new Error(`${this.name} cannot answer ${type}`));
  }

  abstract start(): Promise<void>;
  abstract execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply>;
  abstract interrupt(): Promise<void>;
  abstract restart(): Promise<void>;
  abstract shutdown(): Promise<void>;
}
