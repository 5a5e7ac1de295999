// A cell's output area: nbformat outputs from iopub messages, streamed into the DOM as they
// arrive. Every HTML, SVG and Markdown output goes through DOMPurify first; JavaScript outputs
// run only on trusted pages.

import { BOKEH_BANNER_TEXT, BOKEH_MIME_TYPES, isBokehBanner, renderBokeh } from "./bokeh";
import { CHART_MIME_TYPES, renderChart } from "./charts";
import { chunkProblem } from "./chunks";
import DOMPurify from "dompurify";
import { ansiToElements } from "./ansi";
import { type MathConfig, hasMath, typeset } from "./math";
import type { JSONObject, Message } from "./protocol";
import type { Widgets } from "./widgets";
import { WIDGET_VIEW_MIME } from "./widgetstate";

export interface RenderOptions {
  trusted: boolean;
  math: MathConfig;
  staticUrl: string;
  /** Jupyter widgets (views of `application/vnd.jupyter.widget-view+json` outputs). */
  widgets?: Widgets;
  /** anywidget widgets may run their modules (the page's `allowWidgetESM`). */
  widgetESM?: boolean;
}

const MIME_ORDER = [
  ...CHART_MIME_TYPES,
  ...BOKEH_MIME_TYPES,
  "application/javascript",
  "text/html",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "text/markdown",
  "text/latex",
  "application/json",
  "text/plain",
];

/** Elements showing a display_id, on the whole page (updates reach every cell). */
const displays = new Map<string, Set<HTMLElement>>();

export function updateDisplay(msg: Message, options: RenderOptions): void {
  const id = (msg.content.transient as JSONObject | undefined)?.display_id;
  if (typeof id !== "string") return;
  for (const element of displays.get(id) ?? []) {
    if (!element.isConnected) continue;
    const fresh = renderBundle(msg.content.data as JSONObject, msg.content.metadata as JSONObject, options);
    element.replaceChildren(...fresh.childNodes);
  }
}

export class OutputArea {
  private clearPending = false;
  private lastStream: { name: string; element: HTMLElement; text: string } | null = null;

  constructor(readonly element: HTMLElement, private options: RenderOptions) {}

  clear(): void {
    this.element.replaceChildren();
    this.lastStream = null;
    this.clearPending = false;
  }

  /** One iopub message of this cell's execution. */
  handle(msg: Message): void {
    const type = msg.header.msg_type;
    const content = msg.content;
    this.options.widgets?.claim(msg.parent_header.msg_id, this);
    if (type === "clear_output") {
      if (content.wait) this.clearPending = true;
      else this.clear();
      return;
    }
    if (type === "execute_input") return;
    if (this.clearPending) this.clear();
    if (type === "stream") this.stream(String(content.name), String(content.text ?? ""));
    else if (type === "display_data" || type === "execute_result") this.display(content);
    else if (type === "error") this.error(content);
  }

  private stream(name: string, text: string): void {
    if (this.lastStream && this.lastStream.name === name && this.element.lastChild === this.lastStream.element) {
      this.lastStream.text += text;
      this.lastStream.element.replaceChildren(ansiToElements(this.lastStream.text));
      return;
    }
    const pre = document.createElement("pre");
    pre.className = `lc-output lc-stream lc-${name === "stderr" ? "stderr" : "stdout"}`;
    pre.append(ansiToElements(text));
    this.element.append(pre);
    this.lastStream = { name, element: pre, text };
  }

  private display(content: JSONObject): void {
    const element = renderBundle(content.data as JSONObject, content.metadata as JSONObject, this.options);
    const id = (content.transient as JSONObject | undefined)?.display_id;
    if (typeof id === "string") {
      if (!displays.has(id)) displays.set(id, new Set());
      displays.get(id)?.add(element);
    }
    this.element.append(element);
    this.lastStream = null;
  }

  private error(content: JSONObject): void {
    const pre = document.createElement("pre");
    pre.className = "lc-output lc-error";
    const traceback = (content.traceback as string[] | undefined) ?? [];
    pre.append(ansiToElements(traceback.length ? traceback.join("\n") : errorLine(content)));
    this.element.append(pre);
    this.lastStream = null;
  }

  /** Ask for input() in the page; resolves with what the reader typed (Enter). */
  ask(prompt: string, password: boolean): Promise<string> {
    return new Promise((resolve) => {
      const line = document.createElement("div");
      line.className = "lc-output lc-stdin-line";
      const label = document.createElement("label");
      label.className = "lc-prompt";
      label.textContent = prompt;
      const input = document.createElement("input");
      input.className = "lc-stdin";
      input.type = password ? "password" : "text";
      input.autocomplete = "off";
      input.setAttribute("aria-label", prompt || "Input for the running cell");
      label.append(input);
      line.append(label);
      this.element.append(line);
      this.lastStream = null;
      input.focus();
      input.addEventListener("keydown", (event) => {
        if (event.key !== "Enter") return;
        event.preventDefault();
        const value = input.value;
        const echo = document.createElement("pre");
        echo.className = "lc-output lc-stream lc-stdout";
        echo.textContent = prompt + (password ? "••••••" : value);
        line.replaceWith(echo);
        resolve(value);
      });
    });
  }

  /** Show an error that is not the kernel's (lost connection, dead kernel). */
  problem(text: string): void {
    const pre = document.createElement("pre");
    pre.className = "lc-output lc-error lc-problem";
    pre.textContent = text;
    this.element.append(pre);
  }
}

/** An error without a traceback in one line. bash_kernel's failed command is
 * `{ename: "", evalue: "2"}` (its exit status), which would otherwise read ": 2". */
export function errorLine(content: JSONObject): string {
  const ename = typeof content.ename === "string" ? content.ename.trim() : "";
  const evalue = content.evalue === undefined || content.evalue === null ? "" : String(content.evalue).trim();
  if (!ename && /^-?\d+$/.test(evalue)) return `The command failed (exit status ${evalue})`;
  if (!ename) return evalue || "The cell failed";
  return evalue ? `${ename}: ${evalue}` : ename;
}

/** The richest representation of a MIME bundle, as a wrapper element. */
export function renderBundle(data: JSONObject | undefined, metadata: JSONObject | undefined, options: RenderOptions): HTMLElement {
  const wrapper = document.createElement("div");
  wrapper.className = "lc-output";
  if (!data) return wrapper;
  if (options.widgets && WIDGET_VIEW_MIME in data) {
    options.widgets.show(wrapper, data[WIDGET_VIEW_MIME]);
    return wrapper;
  }
  for (const mime of MIME_ORDER) {
    if (!(mime in data)) continue;
    if (mime === "application/javascript" && !options.trusted) continue;
    const value = data[mime];
    const text = Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
    if (CHART_MIME_TYPES.includes(mime)) {
      renderChart(wrapper, mime, value);
      return wrapper;
    }
    if (BOKEH_MIME_TYPES.includes(mime)) {
      renderBokeh(wrapper, data, options.trusted);
      return wrapper;
    }
    switch (mime) {
      case "application/javascript": {
        wrapper.classList.add("lc-javascript");
        const script = document.createElement("script");
        script.textContent = text;
        wrapper.append(script);
        return wrapper;
      }
      case "text/html":
        if (isBokehBanner(text)) {
          wrapper.classList.add("lc-bokeh-load");
          wrapper.textContent = BOKEH_BANNER_TEXT;
          return wrapper;
        }
        wrapper.classList.add("lc-html");
        wrapper.append(sanitize(text, false));
        if (hasMath(wrapper.textContent || "")) void typeset(wrapper, options.math, options.staticUrl);
        return wrapper;
      case "image/svg+xml":
        wrapper.classList.add("lc-image");
        wrapper.append(sanitize(text, true));
        return wrapper;
      case "image/png":
      case "image/jpeg":
      case "image/gif": {
        wrapper.classList.add("lc-image");
        const image = document.createElement("img");
        image.alt = `${mime} output`;
        image.src = `data:${mime};base64,${text.replace(/\s/g, "")}`;
        const size = (metadata?.[mime] as JSONObject | undefined) ?? {};
        if (typeof size.width === "number") image.width = size.width;
        if (typeof size.height === "number") image.height = size.height;
        wrapper.append(image);
        return wrapper;
      }
      case "text/markdown":
        wrapper.classList.add("lc-markdown-output");
        void renderMarkdown(wrapper, text, options);
        return wrapper;
      case "text/latex":
        wrapper.classList.add("lc-latex");
        wrapper.textContent = text;
        void typeset(wrapper, options.math, options.staticUrl);
        return wrapper;
      case "application/json": {
        wrapper.classList.add("lc-json");
        const pre = document.createElement("pre");
        pre.textContent = JSON.stringify(value, null, 2);
        wrapper.append(pre);
        return wrapper;
      }
      default: {
        wrapper.classList.add("lc-text");
        const pre = document.createElement("pre");
        pre.append(ansiToElements(text));
        wrapper.append(pre);
        return wrapper;
      }
    }
  }
  return wrapper;
}

const FORBID_TAGS = ["script", "style", "iframe", "object", "embed", "form", "base", "meta", "link", "foreignObject", "animate", "set", "animateMotion", "animateTransform", "handler", "discard", "use"];

function sanitize(html: string, svg: boolean): DocumentFragment {
  return DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    USE_PROFILES: svg ? { svg: true, svgFilters: true } : { html: true, svg: true, svgFilters: true, mathMl: true },
    FORBID_TAGS,
  }) as DocumentFragment;
}

async function renderMarkdown(wrapper: HTMLElement, text: string, options: RenderOptions): Promise<void> {
  let marked: typeof import("marked").marked;
  try {
    ({ marked } = await import("marked"));
  } catch (error) {
    wrapper.replaceChildren(chunkProblem("Markdown rendering", error));
    return;
  }
  // Keep $...$ math away from Markdown (underscores, backslashes) and typeset it afterwards.
  const html = await marked.parse(text, { async: true, gfm: true });
  wrapper.replaceChildren(sanitize(html, false));
  if (hasMath(wrapper.textContent || "")) await typeset(wrapper, options.math, options.staticUrl);
}
