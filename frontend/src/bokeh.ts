// Bokeh plots. Bokeh's notebook outputs are JavaScript programs (`show(p)` writes a script that
// embeds the plot's document, `output_notebook()` one that loads BokehJS from a CDN); none of
// it is ever run here. The plot's data (`docs_json`, `render_items`) is read out of the script
// by a strict parser of the one shape Bokeh's template writes (JSON.parse only), and drawn by
// BokehJS's own `embed_items` into this output: BokehJS is self-hosted, a lazy chunk (plus its
// widgets and tables when a document needs them) loaded the first time a Bokeh plot appears.
// BokehJS draws plots without `eval`; only CustomJS-family models compile code (`new Function`),
// which a page's CSP refuses.

import DOMPurify from "dompurify";
import { chunkProblem } from "./chunks";
import type { JSONObject } from "./protocol";

export const BOKEH_EXEC_MIME = "application/vnd.bokehjs_exec.v0+json";
export const BOKEH_LOAD_MIME = "application/vnd.bokehjs_load.v0+json";
/** Bokeh's own mime types, ahead of `application/javascript` in a bundle: its scripts never run. */
export const BOKEH_MIME_TYPES = [BOKEH_EXEC_MIME, BOKEH_LOAD_MIME];

/** What the banner of `output_notebook()` ("Loading BokehJS ...") says instead. */
export const BOKEH_BANNER_TEXT = "Bokeh plots on this page are drawn by its own copy of BokehJS.";

export interface BokehRenderItem {
  docid: string;
  root_ids: string[];
}

export interface BokehEmbed {
  docsJson: Record<string, JSONObject>;
  renderItems: BokehRenderItem[];
  /** The Bokeh version that wrote the documents (their `version`), "" when not given. */
  version: string;
}

// bokeh/core/_templates/try_run.js.jinja around doc_nb_js.js.jinja (Bokeh 3), one trimmed
// line each; blank lines do not count.
const HEAD = ["(function(root) {", "function embed_document(root) {"];
const TAIL = [
  "}",
  "if (root.Bokeh !== undefined) {",
  "embed_document(root);",
  "} else {",
  "let attempts = 0;",
  "const timer = setInterval(function(root) {",
  "if (root.Bokeh !== undefined) {",
  "clearInterval(timer);",
  "embed_document(root);",
  "} else {",
  "attempts++;",
  "if (attempts > 100) {",
  "clearInterval(timer);",
  'console.log("Bokeh: ERROR: Unable to run BokehJS code because BokehJS library is missing");',
  "}",
  "}",
  "}, 10, root)",
  "}",
  "})(window);",
];
const CALLS = [
  "void root.Bokeh.embed.embed_items_notebook(docs_json, render_items);",
  "root.Bokeh.embed.embed_items_notebook(docs_json, render_items);",
  "root.Bokeh.embed.embed_items(docs_json, render_items);",
];
const SHAPE = "it is not the script Bokeh's show() writes";

/** The plot a Bokeh exec script embeds, or why it cannot be read as one. Nothing of the
 * script is evaluated: its two declarations are JSON, every other line must be the template's. */
export function parseBokehScript(script: string): BokehEmbed | { problem: string } {
  const lines = script
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const expected = HEAD.length + 3 + TAIL.length;
  if (lines.length !== expected) return { problem: SHAPE };
  if (HEAD.some((line, index) => lines[index] !== line)) return { problem: SHAPE };
  if (TAIL.some((line, index) => lines[HEAD.length + 3 + index] !== line)) return { problem: SHAPE };
  if (!CALLS.includes(lines[HEAD.length + 2])) return { problem: SHAPE };
  const docs = declaration(lines[HEAD.length], "docs_json");
  if ("problem" in docs) return docs;
  const items = declaration(lines[HEAD.length + 1], "render_items");
  if ("problem" in items) return items;
  return checkEmbed(docs.value, items.value);
}

function declaration(line: string, name: string): { value: unknown } | { problem: string } {
  const match = new RegExp(`^(?:const|let|var) ${name} = (.*);$`).exec(line);
  if (!match) return { problem: `its \`${name}\` declaration is missing` };
  try {
    return { value: JSON.parse(match[1]) };
  } catch {
    return { problem: `its \`${name}\` is not JSON data` };
  }
}

/** The documents and render items of an embed, checked for the shape BokehJS needs. */
export function checkEmbed(docsJson: unknown, renderItems: unknown): BokehEmbed | { problem: string } {
  if (!isObject(docsJson) || !Object.values(docsJson).every(isObject)) return { problem: "its `docs_json` is not an object of documents" };
  const docs = docsJson as Record<string, JSONObject>;
  for (const doc of Object.values(docs)) {
    if (!Array.isArray(doc.roots)) return { problem: "a document in `docs_json` has no list of `roots`" };
  }
  if (!Array.isArray(renderItems) || !renderItems.length) return { problem: "its `render_items` is not a list of items" };
  const items: BokehRenderItem[] = [];
  for (const item of renderItems) {
    if (!isObject(item)) return { problem: "an item of `render_items` is not an object" };
    if (item.docid === undefined && item.token !== undefined) return { problem: "it is a Bokeh server session, which needs its Bokeh server" };
    if (typeof item.docid !== "string" || !isObject(docs[item.docid])) return { problem: "an item of `render_items` names no document of `docs_json`" };
    const ids = Array.isArray(item.root_ids) ? item.root_ids : isObject(item.roots) ? Object.keys(item.roots) : [];
    if (!ids.length || !ids.every((id) => typeof id === "string")) return { problem: "an item of `render_items` names no roots" };
    items.push({ docid: item.docid, root_ids: ids as string[] });
  }
  const versions = Object.values(docs).map((doc) => doc.version);
  return { docsJson: docs, renderItems: items, version: typeof versions[0] === "string" ? versions[0] : "" };
}

/** The model names a set of documents uses (`{"type": "object", "name": ...}` anywhere). */
export function modelNames(value: unknown, names: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) modelNames(item, names);
  } else if (isObject(value)) {
    if (value.type === "object" && typeof value.name === "string") names.add(value.name);
    for (const item of Object.values(value)) modelNames(item, names);
  }
  return names;
}

// Models whose attributes BokehJS runs as JavaScript (compiled with `new Function`, or a URL it
// opens): the kernel's code, so only on trusted pages (where the CSP still refuses `eval`).
const SCRIPT_MODELS = /^(CustomJS\w*|CanvasTexture|CustomLabelingPolicy|OpenURL)$/;

/** The models of `names` that carry JavaScript, sorted. */
export function scriptModels(names: Iterable<string>): string[] {
  return [...names].filter((name) => SCRIPT_MODELS.test(name)).sort();
}

// Attributes BokehJS puts into the page as HTML (or SVG markup), by model.
const HTML_ATTRIBUTES: Record<string, string[]> = { Div: ["text"], Paragraph: ["text"], HTML: ["html"], HoverTool: ["tooltips"], SVGIcon: ["svg"] };

/**
 * The documents with every HTML attribute BokehJS renders as markup passed through `clean`
 * (in place; strings only: a tooltip list is text), and the first problem that cleaning cannot
 * fix: a HelpTool opening a URL that is not http(s) (`javascript:` would run in the page).
 */
export function cleanDocs(value: unknown, clean: (html: string) => string): string | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = cleanDocs(item, clean);
      if (problem) return problem;
    }
    return null;
  }
  if (!isObject(value)) return null;
  const attributes = value.attributes;
  if (value.type === "object" && typeof value.name === "string" && isObject(attributes)) {
    for (const key of HTML_ATTRIBUTES[value.name] ?? []) {
      const html = attributes[key];
      if (typeof html === "string") attributes[key] = clean(html);
      else if (Array.isArray(html)) attributes[key] = html.map((item) => (typeof item === "string" ? clean(item) : item));
    }
    if (value.name === "HelpTool" && attributes.redirect !== undefined && !/^https?:\/\//i.test(String(attributes.redirect))) {
      return "its HelpTool opens a URL that is not http(s)";
    }
  }
  for (const item of Object.values(value)) {
    const problem = cleanDocs(item, clean);
    if (problem) return problem;
  }
  return null;
}

/** Whether an HTML output is the banner of `output_notebook()` (whose script never runs here). */
export function isBokehBanner(html: string): boolean {
  return html.includes('class="bk-notebook-logo"') && /<span id="[\w-]+">Loading BokehJS \.\.\.<\/span>/.test(html);
}

/** One line for a plot that could not be drawn. */
export function bokehErrorText(reason: string): string {
  const line = reason.split("\n")[0].trim();
  return `Could not draw this Bokeh plot: ${line.length > 200 ? `${line.slice(0, 199)}…` : line}`;
}

/** The line shown above a plot made by another Bokeh version than our BokehJS. */
export function versionNote(made: string, drawing: string): string | null {
  if (!made || made === drawing) return null;
  return `This plot was made by Bokeh ${made} and is drawn by BokehJS ${drawing}.`;
}

/** HTML as outputs' HTML is cleaned (outputs.ts), as a string for BokehJS. */
function cleanHtml(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true, svgFilters: true, mathMl: true }, FORBID_TAGS: ["script", "style", "iframe", "object", "embed", "form", "base", "meta", "link", "foreignObject", "use"] });
}

function isObject(value: unknown): value is JSONObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Bokeh output (its bundle) drawn into `wrapper`, asynchronously. */
export function renderBokeh(wrapper: HTMLElement, data: JSONObject, trusted: boolean): void {
  wrapper.classList.add("lc-bokeh");
  if (BOKEH_EXEC_MIME in data) {
    const script = data["application/javascript"];
    const text = Array.isArray(script) ? script.join("") : script;
    if (typeof text !== "string") return fail(wrapper, "it is a Bokeh server app, which needs its Bokeh server");
    drawScript(wrapper, text, trusted);
    return;
  }
  // output_notebook()'s loader: BokehJS is ours, loaded with the first plot.
  wrapper.classList.add("lc-bokeh-load");
}

/** Draw the plot of an exec script into `wrapper`. */
export function drawScript(wrapper: HTMLElement, script: string, trusted: boolean): void {
  const embed = parseBokehScript(script);
  if ("problem" in embed) return fail(wrapper, embed.problem);
  const scripted = trusted ? [] : scriptModels(modelNames(embed.docsJson));
  if (scripted.length) return fail(wrapper, `it holds JavaScript (${scripted.join(", ")}), which runs only on trusted pages`);
  const problem = trusted ? null : cleanDocs(embed.docsJson, cleanHtml);
  if (problem) return fail(wrapper, problem);
  // The plot's place, made now: an updated display (display_id) moves it to where it shows.
  const target = document.createElement("div");
  target.className = "lc-bokeh-plot";
  wrapper.append(target);
  draw(target, embed).then(
    () => (wrapper.dataset.bokeh = "drawn"),
    (error: unknown) => {
      wrapper.dataset.bokeh = "failed";
      if (error instanceof ChunkError) target.replaceWith(chunkProblem("BokehJS", error.cause));
      else target.replaceWith(errorLine(error instanceof Error ? error.message : String(error)));
    },
  );
}

/** The Bokeh plots of a page's saved outputs (`.lc-bokeh[data-bokeh-script]`, see render.py). */
export function showSavedBokeh(root: ParentNode, trusted: boolean): void {
  for (const element of root.querySelectorAll<HTMLElement>(".lc-bokeh[data-bokeh-script]")) {
    const script = element.dataset.bokehScript ?? "";
    element.removeAttribute("data-bokeh-script");
    drawScript(element, script, trusted);
  }
}

function fail(wrapper: HTMLElement, reason: string): void {
  wrapper.dataset.bokeh = "failed";
  wrapper.replaceChildren(errorLine(reason));
}

function errorLine(reason: string): HTMLElement {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-bokeh-error";
  pre.textContent = bokehErrorText(reason);
  return pre;
}

class ChunkError extends Error {
  constructor(readonly cause: unknown) {
    super("chunk");
  }
}

async function draw(target: HTMLElement, embed: BokehEmbed): Promise<void> {
  let Bokeh: BokehJS;
  try {
    Bokeh = (await import("@bokeh/bokehjs/build/js/bokeh.esm.min.js")).default as BokehJS;
    // Widgets and tables are plugins of their own (380 + 300 KB): only for documents using them.
    if ([...modelNames(embed.docsJson)].some((name) => Bokeh.Models.get(name) === null)) {
      await Promise.all([import("@bokeh/bokehjs/build/js/bokeh-widgets.esm.min.js"), import("@bokeh/bokehjs/build/js/bokeh-tables.esm.min.js")]);
    }
  } catch (error) {
    throw new ChunkError(error);
  }
  const note = versionNote(embed.version, Bokeh.version);
  if (note) {
    const line = document.createElement("div");
    line.className = "lc-bokeh-note";
    line.textContent = note;
    target.append(line);
  }
  // Each root into an element of ours (never an id of the kernel's choosing).
  const items = embed.renderItems.map((item) => {
    const roots: Record<string, HTMLElement> = {};
    for (const id of item.root_ids) {
      const view = document.createElement("div");
      view.className = "lc-bokeh-view";
      target.append(view);
      roots[id] = view;
    }
    return { docid: item.docid, roots, root_ids: item.root_ids };
  });
  await Bokeh.embed.embed_items(embed.docsJson, items);
}

// What this module uses of BokehJS (its bundle has no types).
interface BokehJS {
  version: string;
  Models: { get(name: string): unknown };
  embed: { embed_items(docs: Record<string, JSONObject>, items: { docid: string; roots: Record<string, HTMLElement>; root_ids: string[] }[]): Promise<unknown> };
}
