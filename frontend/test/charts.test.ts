import assert from "node:assert/strict";
import { test } from "node:test";

import { chartErrorText, chartKind, specProblem } from "../src/charts";

test("chart mime types name their library, both spellings of altair 6's", () => {
  assert.equal(chartKind("application/vnd.plotly.v1+json"), "plotly");
  assert.equal(chartKind("application/vnd.vegalite.v4+json"), "vega-lite");
  assert.equal(chartKind("application/vnd.vegalite.v6.json"), "vega-lite");
  assert.equal(chartKind("application/vnd.vega.v5+json"), "vega");
  assert.equal(chartKind("text/html"), undefined);
});

test("a plotly spec needs a list of trace objects and object layout / config", () => {
  assert.equal(specProblem("plotly", { data: [{ type: "scatter", x: [1] }], layout: {} }), null);
  assert.equal(specProblem("plotly", "nope"), "the spec is not a JSON object");
  assert.equal(specProblem("plotly", [1]), "the spec is not a JSON object");
  assert.equal(specProblem("plotly", { data: "nope" }), "its `data` is not a list of traces");
  assert.equal(specProblem("plotly", { data: [1] }), "a trace in `data` is not an object");
  assert.equal(specProblem("plotly", { data: [], layout: [] }), "its `layout` is not an object");
  assert.equal(specProblem("plotly", { data: [], config: null }), "its `config` is not an object");
});

test("a vega-lite spec needs a view and a known mark", () => {
  assert.equal(specProblem("vega-lite", { mark: "bar" }), null);
  assert.equal(specProblem("vega-lite", { mark: { type: "line" } }), null);
  assert.equal(specProblem("vega-lite", { layer: [] }), null);
  assert.equal(specProblem("vega-lite", { data: {} }), "it has no `mark`, `layer`, `facet`, `repeat` or `concat`");
  assert.equal(specProblem("vega-lite", { mark: "nosuchmark" }), 'its mark "nosuchmark" is not a Vega-Lite mark');
  assert.equal(specProblem("vega-lite", { mark: {} }), "its mark undefined is not a Vega-Lite mark");
});

test("a vega spec's top-level parts are lists", () => {
  assert.equal(specProblem("vega", { marks: [], data: [] }), null);
  assert.equal(specProblem("vega", { marks: {} }), "its `marks` is not a list");
  assert.equal(specProblem("vega", null), "the spec is not a JSON object");
});

test("a chart error is one line of at most 200 characters of the reason", () => {
  assert.equal(chartErrorText("vega", "bad\nstack trace"), "Could not draw this vega chart: bad");
  const long = chartErrorText("plotly", "x".repeat(500));
  assert.equal(long, `Could not draw this plotly chart: ${"x".repeat(199)}…`);
});
