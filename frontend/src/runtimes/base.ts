// What every runtime has in common: a status its listeners hear about, and the listeners of
// display updates (an `update_display_data` changes a display wherever it was first shown).
// Each runtime adds what is its own: how it starts a kernel and how messages reach it.

import type { JSONObject, Message } from "../protocol";
import type { ExecuteCallbacks, ExecuteReply, HelpRequest, Runtime, Status, StatusListener } from "./runtime";

export abstract class BaseRuntime implements Runtime {
  abstract readonly name: string;
  private current: Status = "idle";
  private statusListeners = new Set<StatusListener>();
  private displayListeners = new Set<(msg: Message) => void>();

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
