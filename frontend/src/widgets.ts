// Jupyter widgets on a page: the small part that is always loaded. It watches the runtime's
// messages for comms, and loads the widget manager (./widgets-manager, a lazy chunk with
// ipywidgets' html-manager) only when a kernel opens a comm or an output or a saved state shows
// a widget. Before Start, a notebook's saved widget state (a JSON script the page carries) is
// shown with no kernel; a live run's outputs replace those views as any outputs do.

import { chunkProblem, chunkProblemText } from "./chunks";
import type { RenderOptions } from "./outputs";
import type { Message } from "./protocol";
import type { Runtime } from "./runtimes/runtime";
import { readSavedState, viewModelId } from "./widgetstate";
import type { Manager } from "./widgets-manager";

/** Where a problem with a widget message is shown: the output area of the cell it came from. */
export interface ProblemSink {
  problem(text: string): void;
}

/** A comm message still being applied after this long no longer holds the kernel's messages. */
const HOLD_LIMIT = 10_000;

export class Widgets {
  private runtime: Runtime | null = null;
  private live: Promise<Manager> | null = null;
  private ready: Manager | null = null;
  private areas = new Map<string, ProblemSink>();
  private lastArea: ProblemSink | null = null;
  private off: (() => void) | null = null;

  constructor(private options: () => RenderOptions) {}

  /** The cell whose execution is `msgId` shows its widget problems in `area`. */
  claim(msgId: string | undefined, area: ProblemSink): void {
    if (!msgId || this.areas.get(msgId) === area) return;
    this.areas.set(msgId, area);
    this.lastArea = area;
    if (this.areas.size > 200) this.areas.delete(this.areas.keys().next().value as string);
  }

  /** Widgets of `runtime` from now on (a new kernel has new models), none of the previous one's. */
  attach(runtime: Runtime): void {
    this.detach();
    this.runtime = runtime;
    this.reset();
    const offMessage = runtime.onMessage((msg) => (runtime === this.runtime ? this.message(msg) : false));
    const offStatus = runtime.onStatus((status) => {
      if (runtime === this.runtime && (status === "restarting" || status === "dead")) this.reset();
    });
    this.off = () => {
      offMessage();
      offStatus();
    };
  }

  /** Stop listening to the runtime (its widgets stop updating). */
  detach(): void {
    this.off?.();
    this.off = null;
    this.runtime = null;
    this.reset();
  }

  /** The live widget manager, once loaded (for tools and benchmarks: `livecells.widgets.liveManager`). */
  get liveManager(): Manager | null {
    return this.ready;
  }

  private reset(): void {
    this.live = null;
    this.ready = null;
  }

  private manager(): Promise<Manager> {
    const runtime = this.runtime;
    if (!runtime) return Promise.reject(new Error("no kernel"));
    this.live ??= import("./widgets-manager").then(({ Manager }) => {
      const manager = new Manager(
        (type, content, metadata, buffers) => runtime.sendComm(type, content, metadata, buffers),
        this.options(),
        (msg, text) => this.problem(msg, text),
      );
      if (runtime === this.runtime) this.ready = manager;
      return manager;
    });
    const live = this.live;
    live.catch(() => {
      if (this.live === live) this.live = null; // a chunk that failed to load is tried again
    });
    return live;
  }

  private message(msg: Message): boolean | Promise<boolean> {
    if (this.ready) return this.hold(this.ready.message(msg));
    if (!msg.header.msg_type.startsWith("comm_")) return false;
    return this.hold(
      this.manager().then(
        (manager) => manager.message(msg),
        (error) => {
          this.problem(msg, chunkProblemText("the widgets", error));
          return true;
        },
      ),
    );
  }

  private hold(answer: boolean | Promise<boolean>): boolean | Promise<boolean> {
    if (typeof answer === "boolean") return answer;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), HOLD_LIMIT)));
    return Promise.race([answer, limit]).finally(() => clearTimeout(timer));
  }

  private problem(msg: Message, text: string): void {
    const area = this.areas.get(msg.parent_header.msg_id ?? "") ?? this.lastArea;
    if (area) area.problem(text);
    else console.warn(`livecells: ${text}`);
  }

  /** A widget view output, live: the model's view in `wrapper`, or one line saying why not. */
  show(wrapper: HTMLElement, data: unknown): void {
    wrapper.classList.add("lc-widget");
    const view = viewModelId(data);
    if ("error" in view) return fail(wrapper, `Widget error: ${view.error}`);
    this.manager().then(
      (manager) => manager.show(wrapper, view.modelId).catch((error) => fail(wrapper, widgetError(view.modelId, error))),
      (error) => wrapper.replaceChildren(chunkProblem("the widgets", error)),
    );
  }

  /**
   * The widgets a page shows from its notebook's saved state (`.lc-widget[data-widget-model]`
   * outputs, the state in `script#lc-widget-state`), with no kernel. A view that cannot be
   * shown keeps its stored text and says why beneath it.
   */
  async showSaved(root: ParentNode): Promise<void> {
    const views = [...root.querySelectorAll<HTMLElement>(".lc-widget[data-widget-model]")];
    const script = document.getElementById("lc-widget-state");
    if (!views.length || !script) return;
    const parsed = readSavedState(script.textContent ?? "");
    if ("error" in parsed) return note(views[0], `Widget error: ${parsed.error}`);
    for (const line of parsed.problems) console.warn(`livecells: ${line}`);
    let manager: Manager;
    try {
      const { Manager } = await import("./widgets-manager");
      manager = new Manager(null, this.options(), () => undefined);
      await manager.restore(parsed.state);
    } catch (error) {
      views[0].after(chunkProblem("the widgets", error));
      return;
    }
    for (const element of views) {
      const modelId = element.dataset.widgetModel ?? "";
      if (!(modelId in parsed.state.state)) {
        note(element, `Widget error: the notebook's saved widget state has no model ${modelId}`);
        continue;
      }
      const fallback = [...element.childNodes];
      const place = document.createElement("div");
      element.replaceChildren(place);
      try {
        await manager.show(place, modelId);
        element.classList.add("lc-widget-saved");
      } catch (error) {
        element.replaceChildren(...fallback);
        note(element, widgetError(modelId, error));
      }
    }
  }
}

function widgetError(modelId: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return reason === "widget model not found"
    ? `Widget error: no widget model ${modelId} (its kernel has none: was it created in another session?)`
    : `Widget error: ${reason}`;
}

function fail(wrapper: HTMLElement, text: string): void {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-problem";
  pre.textContent = text;
  wrapper.replaceChildren(pre);
}

function note(element: HTMLElement, text: string): void {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-problem";
  pre.textContent = text;
  element.append(pre);
}
