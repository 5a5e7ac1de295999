// Interactive charts: Plotly and Vega / Vega-Lite outputs (the JSON mime types plotly, altair
// and vega emit), drawn by the libraries themselves, self-hosted and loaded as lazy chunks the
// first time such an output appears (under the import map's integrity hashes, like the editor).
// They need no trusted page: the output is data, not code. Vega compiles its expressions with
// vega-interpreter (no `eval`, so the page's CSP holds); neither library is allowed to reach
// another host (no editor links, no CDN).

import { chunkProblem } from "./chunks";
import type { JSONObject } from "./protocol";

export type ChartKind = "plotly" | "vega-lite" | "vega";

const CHART_MIMES: Record<string, ChartKind> = {
  "application/vnd.plotly.v1+json": "plotly",
  "application/vnd.vegalite.v4+json": "vega-lite",
  "application/vnd.vegalite.v5+json": "vega-lite",
  "application/vnd.vegalite.v6+json": "vega-lite",
  "application/vnd.vega.v5+json": "vega",
  "application/vnd.vega.v6+json": "vega",
  // altair 6's "mimetype" renderer writes these spellings of the v6 types.
  "application/vnd.vegalite.v6.json": "vega-lite",
  "application/vnd.vega.v6.json": "vega",
};

/** The chart mime types, richest first: a bundle's chart wins over its HTML fallback. */
export const CHART_MIME_TYPES = Object.keys(CHART_MIMES);

export function chartKind(mime: string): ChartKind | undefined {
  return CHART_MIMES[mime];
}

// Vega-Lite's own message for an unknown mark is a TypeError from deep inside it.
const VEGA_LITE_MARKS = ["arc", "area", "bar", "image", "line", "point", "rect", "rule", "text", "tick", "trail", "circle", "square", "geoshape", "boxplot", "errorband", "errorbar"];
const VEGA_LITE_VIEWS = ["mark", "layer", "facet", "repeat", "concat", "hconcat", "vconcat", "spec"];

/** Why `spec` cannot be a chart of this kind, or null when its shape is right (the library
 * itself judges the rest, and its error is shown the same way). */
export function specProblem(kind: ChartKind, spec: unknown): string | null {
  if (!isObject(spec)) return "the spec is not a JSON object";
  if (kind === "plotly") {
    if (!Array.isArray(spec.data)) return "its `data` is not a list of traces";
    if (!spec.data.every(isObject)) return "a trace in `data` is not an object";
    for (const key of ["layout", "config"]) {
      if (spec[key] !== undefined && !isObject(spec[key])) return `its \`${key}\` is not an object`;
    }
    return null;
  }
  if (kind === "vega-lite") {
    if (!VEGA_LITE_VIEWS.some((key) => key in spec)) return "it has no `mark`, `layer`, `facet`, `repeat` or `concat`";
    if (spec.mark === undefined) return null;
    const mark = isObject(spec.mark) ? spec.mark.type : spec.mark;
    if (typeof mark !== "string" || !VEGA_LITE_MARKS.includes(mark)) return `its mark ${JSON.stringify(mark) ?? "undefined"} is not a Vega-Lite mark`;
    return null;
  }
  for (const key of ["data", "marks", "signals", "scales", "axes", "legends"]) {
    if (spec[key] !== undefined && !Array.isArray(spec[key])) return `its \`${key}\` is not a list`;
  }
  return null;
}

function isObject(value: unknown): value is JSONObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One line for a chart that could not be drawn (a library's message can run to pages). */
export function chartErrorText(kind: ChartKind, reason: string): string {
  const line = reason.split("\n")[0].trim();
  return `Could not draw this ${kind} chart: ${line.length > 200 ? `${line.slice(0, 199)}…` : line}`;
}

/** Draw the chart into `wrapper` (asynchronously: its library loads on first use). */
export function renderChart(wrapper: HTMLElement, mime: string, spec: unknown): void {
  const kind = chartKind(mime);
  if (!kind) return;
  wrapper.classList.add("lc-chart", `lc-chart-${kind}`);
  const problem = specProblem(kind, spec);
  if (problem) {
    wrapper.append(chartError(kind, problem));
    return;
  }
  const target = document.createElement("div");
  target.className = "lc-chart-view";
  wrapper.append(target);
  const draw = kind === "plotly" ? drawPlotly(target, spec as JSONObject) : drawVega(target, kind, spec as JSONObject);
  draw.then(
    () => (wrapper.dataset.chart = "drawn"),
    (error: unknown) => {
      wrapper.dataset.chart = "failed";
      if (error instanceof ChunkError) target.replaceWith(chunkProblem(`the ${kind} renderer`, error.cause));
      else target.replaceWith(chartError(kind, error instanceof Error ? error.message : String(error)));
    },
  );
}

class ChunkError extends Error {
  constructor(readonly cause: unknown) {
    super("chunk");
  }
}

function chartError(kind: ChartKind, reason: string): HTMLElement {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-chart-error";
  pre.textContent = chartErrorText(kind, reason);
  return pre;
}

async function load<T>(loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    throw new ChunkError(error);
  }
}

async function drawPlotly(target: HTMLElement, spec: JSONObject): Promise<void> {
  const Plotly = (await load(() => import("plotly.js-dist-min"))).default;
  const config = {
    ...((spec.config as JSONObject | undefined) ?? {}),
    responsive: true,
    displaylogo: false,
    showLink: false,
    showSendToCloud: false,
    showEditInChartStudio: false,
    // Maps' outlines would come from Plotly's CDN: a page's CSP refuses it anyway.
    topojsonURL: "",
  };
  await Plotly.newPlot(target, spec.data as never, (spec.layout ?? {}) as never, config as never);
}

async function drawVega(target: HTMLElement, kind: "vega" | "vega-lite", spec: JSONObject): Promise<void> {
  const [{ default: embed }, { expressionInterpreter }] = await load(() => Promise.all([import("vega-embed"), import("vega-interpreter")]));
  const result = await embed(target, spec as never, {
    mode: kind,
    renderer: "svg",
    actions: false,
    ast: true,
    expr: expressionInterpreter,
  });
  // A Vega error inside a dataflow run is logged, not thrown: surface it.
  await result.view.runAsync();
}
