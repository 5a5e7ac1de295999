import assert from "node:assert/strict";
import { test } from "node:test";

import { parseHTML } from "linkedom";

import { adoptCells, panelPlace } from "../src/markup";

// The markup as MyST-NB 1.x, nbsphinx 0.9 and Sphinx's code-block write it (trimmed).
const MYST_NB = `<article role="main"><h1>T</h1>
<div class="cell docutils container">
<div class="cell_input docutils container"><div class="highlight-ipython3 notranslate"><div class="highlight"><pre><span>x</span> = 1</pre></div></div></div>
<div class="cell_output docutils container"><div class="output text_plain highlight-myst-ansi notranslate"><div class="highlight"><pre>1</pre></div></div></div>
</div>
<div class="cell tag_hide-input tag_skip-execution docutils container">
<details class="hide above-input"><summary aria-label="Toggle hidden content"><span>Show code cell source</span></summary>
<div class="cell_input docutils container"><div class="highlight-ipython3 notranslate"><div class="highlight"><pre>print(x)</pre></div></div></div>
</details>
</div>
<div class="cell tag_remove-input docutils container"><div class="cell_output docutils container"><pre>out</pre></div></div>
</article>`;

const NBSPHINX = `<div class="body" role="main"><section>
<div class="nbinput docutils container"><div class="prompt highlight-none notranslate"><div class="highlight"><pre>[1]:</pre></div></div><div class="input_area highlight-ipython3 notranslate"><div class="highlight"><pre>x = 2
x</pre></div></div></div>
<div class="nboutput docutils container"><div class="prompt highlight-none notranslate"><div class="highlight"><pre>[1]:</pre></div></div><div class="output_area docutils container"><div class="highlight"><pre>2</pre></div></div></div>
<div class="nboutput nblast docutils container"><div class="output_area stderr docutils container"><div class="highlight"><pre>warn</pre></div></div></div>
<p>prose</p>
<div class="nbinput nblast docutils container"><div class="input_area highlight-ipython3 notranslate"><div class="highlight"><pre>y = 3</pre></div></div></div>
</section></div>`;

const CODE_BLOCKS = `<div role="main"><button class="thebe-launch-button">Run</button>
<div class="highlight-python notranslate"><div class="highlight"><pre>1 + 1</pre></div></div>
<div class="highlight-text notranslate"><div class="highlight"><pre>not code</pre></div></div>
<div class="thebe"><pre>2 + 2</pre><div class="output">4</div></div>
</div>`;

function page(body: string): Document {
  return parseHTML(`<!doctype html><html><body>${body}</body></html>`).document as unknown as Document;
}

test("MyST-NB cells: the input's pre is the source, the cell_output the outputs, tags from tag_ classes", () => {
  const doc = page(MYST_NB);
  const cells = adoptCells(doc.body, null);
  assert.equal(cells.length, 2);
  assert.equal(cells[0].querySelector("pre.lc-source")?.textContent, "x = 1");
  assert.equal(cells[0].querySelector(".lc-outputs")?.classList.contains("cell_output"), true);
  assert.equal(cells[0].dataset.tags, "");
  // hide-input: the source stays inside the closed <details>, and is still the cell's source
  const hidden = cells[1];
  assert.equal(hidden.dataset.tags, "hide-input skip-execution");
  assert.equal(hidden.querySelector("details pre.lc-source")?.textContent, "print(x)");
  assert.equal(hidden.querySelector(".lc-outputs"), null);
});

test("nbsphinx cells: the input and its output rows move into one cell, prompts are not source", () => {
  const doc = page(NBSPHINX);
  const cells = adoptCells(doc.body, null);
  assert.equal(cells.length, 2);
  const [first, second] = cells;
  assert.equal(first.querySelector("pre.lc-source")?.textContent, "x = 2\nx");
  assert.equal(first.querySelectorAll("pre.lc-source").length, 1);
  const outputs = first.querySelector(".lc-outputs");
  assert.deepEqual(
    [...(outputs?.children ?? [])].map((row) => row.className),
    ["nboutput docutils container", "nboutput nblast docutils container"],
  );
  assert.equal(first.nextElementSibling?.tagName, "P");
  assert.equal(second.querySelector("pre.lc-source")?.textContent, "y = 3");
  assert.equal(second.querySelector(".lc-outputs")?.children.length, 0);
  // adopting again changes nothing
  assert.equal(adoptCells(doc.body, null).length, 2);
  assert.equal(doc.querySelectorAll(".lc-cell .lc-cell").length, 0);
});

test("code blocks become cells only where a selector asks for them", () => {
  const none = page(CODE_BLOCKS);
  assert.equal(adoptCells(none.body, null).length, 0);
  const doc = page(CODE_BLOCKS);
  const markup = { selector: "div.highlight-python, .thebe", input: "pre", output: ".output" };
  const cells = adoptCells(doc.body, markup);
  assert.deepEqual(
    cells.map((cell) => cell.querySelector(".lc-source")?.textContent),
    ["1 + 1", "2 + 2"],
  );
  assert.equal(cells[1].querySelector(".lc-outputs")?.textContent, "4");
  assert.equal(doc.querySelector(".highlight-text .lc-source"), null);
});

test("the panel takes a thebe launch button's place, else the top of the main content", () => {
  const withButton = page(CODE_BLOCKS);
  const place = panelPlace(withButton);
  assert.equal(place.before?.className, "thebe-launch-button");
  const doc = page(NBSPHINX);
  const main = panelPlace(doc);
  assert.equal((main.parent as HTMLElement).className, "body");
  assert.equal(main.before?.tagName, "SECTION");
  const book = page(`<main role="main"><div class="bd-header-article">buttons</div><article class="bd-article"><section>T</section></article></main>`);
  assert.equal((panelPlace(book).parent as HTMLElement).className, "bd-article");
  const furo = page(`<article role="main"><div class="content-icon-container">icons</div><section><h1>T</h1></section></article>`);
  assert.equal(panelPlace(furo).before?.tagName, "SECTION");
});
