// The widget manager (a lazy chunk: loaded on the first widget a page shows or a kernel opens):
// ipywidgets 8's @jupyter-widgets/html-manager, with comms over the page's runtime, the Output
// widget's capture of its messages (as JupyterLab's output model does: by the msg_id its kernel
// side sets), and outputs inside Output widgets rendered by livecells' own renderer, so they are
// sanitised like every other output.

import type { IClassicComm, ICallbacks } from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager/lib/htmlmanager";
import { OutputModel as HTMLOutputModel, OutputView } from "@jupyter-widgets/html-manager/lib/output";
import { WIDGET_MIMETYPE, WidgetRenderer } from "@jupyter-widgets/html-manager/lib/output_renderers";
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { RenderMimeRegistry } from "@jupyterlab/rendermime";
import { Widget } from "@lumino/widgets";
import widgetCss from "livecells:widget-css";
import { ansiToElements } from "./ansi";
import { otherModule } from "./widget-modules";
import { type RenderOptions, renderBundle } from "./outputs";
import type { JSONObject, Message } from "./protocol";
import type { CommMessageType } from "./runtimes/runtime";
import { CONTROL_TARGET, type SavedState, WIDGET_TARGET, checkBuffers, checkCommMessage } from "./widgetstate";

/** How the manager reaches the kernel: the runtime's `sendComm`. */
export type SendComm = (type: CommMessageType, content: JSONObject, metadata: JSONObject, buffers: ArrayBuffer[]) => string;

/** JupyterLab's output area gives streams (and errors' tracebacks) these MIME types. */
const STDOUT = "application/vnd.jupyter.stdout";
const STDERR = "application/vnd.jupyter.stderr";
/** MIME types an Output widget's outputs may have, rendered by livecells (sanitised). */
const OUTPUT_MIMES = [
  "text/html",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "text/markdown",
  "text/latex",
  "application/json",
  "text/plain",
  "application/javascript",
  STDOUT,
  STDERR,
];
const CAPTURED = new Set(["stream", "display_data", "execute_result", "error", "clear_output"]);

let styled = false;

/** The widgets' stylesheet, once per page (an inline <style>: the CSP allows inline styles). */
function addStyles(): void {
  if (styled) return;
  styled = true;
  const style = document.createElement("style");
  style.dataset.livecells = "widgets";
  style.textContent = widgetCss;
  document.head.append(style);
}

function arrayBuffers(buffers: (ArrayBuffer | ArrayBufferView)[] | undefined): ArrayBuffer[] {
  return (buffers ?? []).map((buffer) =>
    buffer instanceof ArrayBuffer
      ? buffer
      : (buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer),
  );
}

/** One comm, as ipywidgets' models use it; messages that arrive before the model listens wait. */
class Comm implements IClassicComm {
  private onMsg: ((msg: unknown) => unknown) | null = null;
  private onClose: ((msg: unknown) => unknown) | null = null;
  private waiting: Message[] = [];

  constructor(
    readonly comm_id: string,
    readonly target_name: string,
    private manager: Manager,
  ) {}

  open(data: unknown, callbacks?: ICallbacks, metadata?: JSONObject, buffers?: (ArrayBuffer | ArrayBufferView)[]): string {
    return this.manager.send("comm_open", { comm_id: this.comm_id, target_name: this.target_name, data }, callbacks, metadata, buffers);
  }

  send(data: unknown, callbacks?: ICallbacks, metadata?: JSONObject, buffers?: (ArrayBuffer | ArrayBufferView)[]): string {
    return this.manager.send("comm_msg", { comm_id: this.comm_id, data }, callbacks, metadata, buffers);
  }

  close(data?: unknown, callbacks?: ICallbacks, metadata?: JSONObject, buffers?: (ArrayBuffer | ArrayBufferView)[]): string {
    const msgId = this.manager.send("comm_close", { comm_id: this.comm_id, data: data ?? {} }, callbacks, metadata, buffers);
    this.manager.forget(this.comm_id);
    this.onClose?.({ content: { comm_id: this.comm_id, data: data ?? {} } });
    return msgId;
  }

  on_msg(callback: (msg: unknown) => unknown): void {
    this.onMsg = callback;
    const waiting = this.waiting.splice(0);
    for (const msg of waiting) void this.onMsg(msg);
  }

  on_close(callback: (msg: unknown) => unknown): void {
    this.onClose = callback;
  }

  async receive(msg: Message): Promise<void> {
    if (!this.onMsg) this.waiting.push(msg);
    else await this.onMsg(msg);
  }

  closed(msg: Message): void {
    this.onClose?.(msg);
  }
}

/** A sanitised renderer of one output inside an Output widget: livecells' own. */
class OutputRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private options: RenderOptions) {
    super();
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const stream = [STDOUT, STDERR].find((mime) => mime in model.data);
    if (stream) {
      const pre = document.createElement("pre");
      pre.className = `lc-output lc-stream lc-${stream === STDERR ? "stderr" : "stdout"}`;
      pre.append(ansiToElements(String(model.data[stream] ?? "")));
      this.node.replaceChildren(pre);
      return;
    }
    const element = renderBundle(model.data as JSONObject, model.metadata as JSONObject, this.options);
    this.node.replaceChildren(...element.childNodes);
    this.node.className = element.className;
  }
}

/** The Output widget's model: outputs of the messages whose parent is its `msg_id`. */
class OutputModel extends HTMLOutputModel {
  private captured = "";

  initialize(attributes: unknown, options: unknown): void {
    super.initialize(attributes as never, options as never);
    this.listenTo(this, "change:msg_id", () => this.capture(String(this.get("msg_id") ?? "")));
    this.capture(String(this.get("msg_id") ?? ""));
  }

  private capture(msgId: string): void {
    const manager = this.widget_manager as unknown as Manager;
    if (this.captured) manager.captures.delete(this.captured);
    this.captured = msgId;
    if (msgId) manager.captures.set(msgId, this);
  }

  /** An output message of the capturing execution. */
  add(msg: Message): void {
    const type = msg.header.msg_type;
    if (type === "clear_output") this.clear_output(Boolean(msg.content.wait));
    else this.outputs.add({ ...msg.content, output_type: type } as never);
    this.set("outputs", this.outputs.toJSON(), { newMessage: true });
    this.save_changes();
  }
}

export interface Problems {
  /** A one-line problem about a message, shown in the output of the cell it came from. */
  (msg: Message, text: string): void;
}

export class Manager extends HTMLManager {
  readonly captures = new Map<string, OutputModel>();
  private comms = new Map<string, Comm>();
  private callbacksOf = new Map<string, ICallbacks>();

  constructor(
    private sendComm: SendComm | null,
    private readonly options: RenderOptions,
    private problem: Problems,
  ) {
    super();
    addStyles();
    const renderMime = new RenderMimeRegistry({
      initialFactories: [
        { safe: true, mimeTypes: OUTPUT_MIMES, createRenderer: () => new OutputRenderer(options) },
      ],
    });
    renderMime.addFactory({ safe: false, mimeTypes: [WIDGET_MIMETYPE], createRenderer: (opts) => new WidgetRenderer(opts, this) }, 0);
    this.renderMime = renderMime;
  }

  async loadClass(className: string, moduleName: string, moduleVersion: string): Promise<typeof import("@jupyter-widgets/base").WidgetModel> {
    if (moduleName === "@jupyter-widgets/output") {
      const classes: Record<string, unknown> = { OutputModel, OutputView };
      if (classes[className]) return classes[className] as never;
    }
    const other = await otherModule(moduleName, moduleVersion, this.options);
    if (other) {
      if (typeof other[className] !== "function") throw new Error(`no class ${className} in ${moduleName}@${moduleVersion}`);
      return other[className] as never;
    }
    return super.loadClass(className, moduleName, moduleVersion) as never;
  }

  /** Send a comm message (callbacks hear the iopub status of its handling). */
  send(type: CommMessageType, content: JSONObject, callbacks?: ICallbacks, metadata?: JSONObject, buffers?: (ArrayBuffer | ArrayBufferView)[]): string {
    if (!this.sendComm) throw new Error("no kernel: these widgets show a saved state (press Start for live ones)");
    const msgId = this.sendComm(type, content, metadata ?? {}, arrayBuffers(buffers));
    if (callbacks) this.callbacksOf.set(msgId, callbacks);
    return msgId;
  }

  forget(commId: string): void {
    this.comms.delete(commId);
  }

  async _create_comm(target: string, modelId?: string, data?: unknown, metadata?: JSONObject, buffers?: ArrayBuffer[] | ArrayBufferView[]): Promise<IClassicComm> {
    if (!this.sendComm) throw new Error("no kernel");
    const comm = new Comm(modelId ?? crypto.randomUUID(), target, this);
    this.comms.set(comm.comm_id, comm);
    if (data !== undefined) comm.open(data, undefined, metadata, buffers);
    return comm;
  }

  _get_comm_info(): Promise<Record<string, never>> {
    return Promise.resolve({});
  }

  /**
   * One iopub message from the kernel: true when the widgets took it. Comm messages are
   * handled in order (the promise settles once a model has applied its update, so an Output
   * widget's new `msg_id` holds before the outputs it captures arrive); status messages reach
   * the callbacks of the comm message they answer.
   */
  message(msg: Message): boolean | Promise<boolean> {
    const type = msg.header.msg_type;
    const parent = msg.parent_header.msg_id ?? "";
    if (type === "status") {
      const callbacks = this.callbacksOf.get(parent);
      callbacks?.iopub?.status?.(msg as never);
      if (msg.content.execution_state === "idle") this.callbacksOf.delete(parent);
      return false;
    }
    if (type === "comm_open" || type === "comm_msg" || type === "comm_close") return this.comm(msg);
    const capturing = this.captures.get(parent);
    if (capturing && CAPTURED.has(type)) {
      capturing.add(msg);
      return true;
    }
    return false;
  }

  private async comm(msg: Message): Promise<boolean> {
    const type = msg.header.msg_type;
    const content = msg.content;
    const invalid = checkCommMessage(type, content) ?? checkBuffers((content.data as JSONObject | undefined) ?? {}, msg.buffers);
    if (invalid) {
      this.problem(msg, `Widget message refused: ${invalid}`);
      return true;
    }
    const commId = content.comm_id as string;
    if (type === "comm_open") {
      const target = content.target_name as string;
      if (target !== WIDGET_TARGET) {
        // As JupyterLab does: a comm no one here handles is closed again, so the kernel knows.
        if (target !== CONTROL_TARGET) this.problem(msg, `Widget error: no handler for comm target "${target}" on this page (comm closed)`);
        this.sendComm?.("comm_close", { comm_id: commId, data: {} }, {}, []);
        return true;
      }
      const comm = new Comm(commId, target, this);
      this.comms.set(commId, comm);
      try {
        await this.handle_comm_open(comm, msg as never);
      } catch (error) {
        this.comms.delete(commId);
        this.problem(msg, `Widget error: ${String(error instanceof Error ? error.message : error)}`);
      }
      return true;
    }
    const comm = this.comms.get(commId);
    if (!comm) {
      this.problem(msg, `Widget error: a ${type} for unknown model ${commId}`);
      return true;
    }
    if (type === "comm_close") {
      this.comms.delete(commId);
      comm.closed(msg);
    } else {
      await comm.receive(msg);
    }
    return true;
  }

  /** Show the view of model `modelId` in `element` (a missing model: an error line instead). */
  async show(element: HTMLElement, modelId: string): Promise<void> {
    const model = await this.get_model(modelId);
    // A model whose class did not load is ipywidgets' error widget: its reason, as one line.
    if (model.get("_view_name") === "ErrorWidgetView") {
      const error: unknown = model.get("error");
      throw new Error(error instanceof Error ? error.message : String(error ?? model.get("msg")));
    }
    const view = await this.create_view(model, {});
    element.replaceChildren();
    await this.display_view(view, element);
  }

  /** Models from a notebook's saved state, with no kernel behind them. */
  async restore(state: SavedState): Promise<void> {
    await this.set_state(state as never);
  }
}
