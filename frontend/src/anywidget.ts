// anywidget's models and views (`_model_module: "anywidget"`), hosted by livecells (a lazy
// chunk, loaded when a kernel opens the first one). The widget's front end is the ES module text
// of its `_esm` trait: imported from a blob: URL (which the page's CSP allows only with the
// `allowWidgetESM` option), then driven as anywidget's own front end drives it: `initialize`
// once per model, `render` once per view, the cleanups they return when the view (or the
// module) goes away. `_css` is one inline <style> per model; a new `_esm` from the kernel loads
// the new module and renders every view again. What fails is one line in that view.

import { DOMWidgetModel, DOMWidgetView } from "@jupyter-widgets/base";
import {
  type AnyWidget,
  type BackboneModel,
  type Cleanup,
  ESM_OPTION,
  esmProblem,
  invoker,
  modelProxy,
  runCleanup,
  widgetOf,
} from "./afm";

type Loaded = { widget: AnyWidget } | { error: string };

/** The event a model triggers for its views when a new module is ready. */
const RELOADED = "livecells:esm";

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function importModule(esm: string): Promise<unknown> {
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  try {
    return await import(/* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function problem(element: HTMLElement, text: string): void {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-problem";
  pre.textContent = text;
  element.replaceChildren(pre);
}

/** anywidget's `AnyModel` and `AnyView`; `allowed`: the page lets them run their modules. */
export function anywidgetClasses(allowed: boolean): Record<string, unknown> {
  class AnyModel extends DOMWidgetModel {
    // `declare`d, not initialised: Backbone calls initialize() inside the constructor, before
    // class fields would be set.
    declare loaded: Promise<Loaded>;
    declare hookContext: object;
    declare hookCleanup: Promise<Cleanup>;
    declare style: HTMLStyleElement | null;

    initialize(attributes: never, options: never): void {
      super.initialize(attributes, options);
      this.style = null;
      this.hookCleanup = Promise.resolve(undefined);
      this.load();
      this.restyle();
      this.on("change:_esm", () => {
        this.load();
        this.trigger(RELOADED);
      });
      this.on("change:_css", () => this.restyle());
      this.once("destroy", () => {
        this.unhook();
        this.style?.remove();
      });
    }

    private unhook(): void {
      if (this.hookContext) this.off(null, null, this.hookContext);
      void this.hookCleanup.then(runCleanup);
    }

    /** Import `_esm` and run its `initialize`; the result (or the one-line reason) is `loaded`. */
    private load(): void {
      this.unhook();
      const context = {};
      this.hookContext = context;
      const esm = this.get("_esm");
      const load = async (): Promise<Loaded> => {
        if (!allowed) {
          return {
            error:
              "Widget error: this page does not run anywidget modules (JavaScript the kernel sends);" +
              ` its author may allow them with livecells: {${ESM_OPTION}: true}`,
          };
        }
        const invalid = esmProblem(esm);
        if (invalid) return { error: `Widget error: ${invalid}` };
        let widget: AnyWidget;
        try {
          widget = await widgetOf(await importModule(esm as string));
        } catch (error) {
          return { error: `Widget error: the anywidget module failed to load: ${reason(error)}` };
        }
        try {
          const model = this as unknown as BackboneModel;
          const props = { model: modelProxy(model, context), experimental: { invoke: invoker(model, context) } };
          const cleanup = widget.initialize?.(props);
          this.hookCleanup = Promise.resolve(cleanup).catch(() => undefined);
          await cleanup;
        } catch (error) {
          return { error: `Widget error: the anywidget module's initialize failed: ${reason(error)}` };
        }
        return { widget };
      };
      this.loaded = load();
    }

    /** `_css` as the model's one <style> (none where the widget is not shown: not allowed). */
    private restyle(): void {
      const css = this.get("_css");
      if (!allowed || typeof css !== "string" || !css.trim() || /^https?:\/\//.test(css.trim())) {
        this.style?.remove();
        this.style = null;
        return;
      }
      if (!this.style) {
        this.style = document.createElement("style");
        this.style.dataset.livecells = "anywidget";
        document.head.append(this.style);
      }
      this.style.textContent = css;
    }

    /** Messages wait for the module's `initialize`, so its `msg:custom` listeners hear them. */
    async _handle_comm_msg(msg: never): Promise<void> {
      await this.loaded;
      return super._handle_comm_msg(msg);
    }
  }

  class AnyView extends DOMWidgetView {
    declare drawn: number;
    declare context: object | null;
    declare cleanup: Promise<Cleanup>;

    declare model: AnyModel;

    async render(): Promise<void> {
      this.drawn = 0;
      this.context = null;
      this.cleanup = Promise.resolve(undefined);
      this.listenTo(this.model, RELOADED, () => void this.draw());
      await this.draw();
    }

    /** Render the model's current module into `el` (again, after a new `_esm`). */
    private async draw(): Promise<void> {
      const drawing = ++this.drawn;
      this.undraw();
      const loaded = await this.model.loaded;
      if (drawing !== this.drawn) return;
      this.el.replaceChildren();
      if ("error" in loaded) return problem(this.el, loaded.error);
      const context = {};
      this.context = context;
      try {
        const model = this.model as unknown as BackboneModel;
        const props = { model: modelProxy(model, context), el: this.el, experimental: { invoke: invoker(model, context) } };
        const cleanup = loaded.widget.render?.(props);
        this.cleanup = Promise.resolve(cleanup).catch(() => undefined);
        await cleanup;
      } catch (error) {
        if (drawing === this.drawn) problem(this.el, `Widget error: the anywidget module's render failed: ${reason(error)}`);
      }
    }

    private undraw(): void {
      if (this.context) this.model.off(null, null, this.context);
      this.context = null;
      void this.cleanup?.then(runCleanup);
      this.cleanup = Promise.resolve(undefined);
    }

    remove(): this {
      this.drawn += 1;
      this.undraw();
      return super.remove();
    }
  }

  return { AnyModel, AnyView };
}
