// Cells in other tools' markup (Sphinx sites): MyST-NB's `div.cell`, nbsphinx's `div.nbinput`
// and its `div.nboutput`s, and whatever a sphinx-thebe `selector` names, are given livecells'
// own classes (`lc-cell`, `pre.lc-source`, `lc-outputs`) so the page's cells run as ours do.
// The elements stay where the theme put them: a hidden input (MyST-NB's `hide-input`, in a
// closed <details>) stays hidden, and still runs.

/** A sphinx-thebe style selector: cells, then each cell's input and outputs within it. */
export interface CellMarkup {
  selector: string;
  input: string;
  output: string;
}

/** The class MyST-NB gives a cell for each of its tags (`tag_hide-input`). */
const TAG_CLASS = /^tag_(.+)$/;

/** Mark up every cell under `root` and return them in document order. MyST-NB and nbsphinx
 * cells are always found; `markup` adds those its selector names (plain code blocks). */
export function adoptCells(root: ParentNode, markup: CellMarkup | null): HTMLElement[] {
  for (const cell of root.querySelectorAll<HTMLElement>("div.cell")) adoptMystNb(cell);
  for (const input of root.querySelectorAll<HTMLElement>("div.nbinput")) adoptNbsphinx(input);
  if (markup?.selector) {
    for (const cell of root.querySelectorAll<HTMLElement>(markup.selector)) adoptSelected(cell, markup);
  }
  return [...root.querySelectorAll<HTMLElement>(".lc-cell")];
}

function adoptMystNb(cell: HTMLElement): void {
  const source = cell.querySelector<HTMLElement>(":scope .cell_input pre");
  if (!source || insideCell(cell)) return;
  cell.classList.add("lc-cell");
  source.classList.add("lc-source");
  const tags = [...cell.classList].map((name) => TAG_CLASS.exec(name)?.[1]).filter((tag): tag is string => !!tag);
  cell.dataset.tags = tags.join(" ");
  cell.querySelector<HTMLElement>(":scope > .cell_output, :scope > details > .cell_output")?.classList.add("lc-outputs");
}

/** nbsphinx lays a cell out as sibling flex rows (`nbinput`, then `nboutput`s): they move, as
 * they are, into one `lc-cell`, the outputs into its `lc-outputs`. */
function adoptNbsphinx(input: HTMLElement): void {
  const source = input.querySelector<HTMLElement>(".input_area pre");
  if (!source || insideCell(input) || !input.parentElement) return;
  const cell = input.ownerDocument.createElement("div");
  cell.className = "lc-cell lc-nbsphinx";
  const outputs = input.ownerDocument.createElement("div");
  outputs.className = "lc-outputs";
  input.parentElement.insertBefore(cell, input);
  let next = input.nextElementSibling;
  cell.append(input, outputs);
  while (next && next.classList.contains("nboutput")) {
    const following = next.nextElementSibling;
    outputs.append(next);
    next = following;
  }
  source.classList.add("lc-source");
}

function adoptSelected(cell: HTMLElement, markup: CellMarkup): void {
  if (insideCell(cell) || cell.classList.contains("lc-cell") || cell.querySelector(".lc-cell")) return;
  const input = (markup.input && cell.querySelector<HTMLElement>(markup.input)) || cell;
  const source = input.matches("pre") ? input : input.querySelector<HTMLElement>("pre");
  if (!source) return;
  cell.classList.add("lc-cell");
  source.classList.add("lc-source");
  if (markup.output) cell.querySelector<HTMLElement>(markup.output)?.classList.add("lc-outputs");
}

function insideCell(element: HTMLElement): boolean {
  return element.parentElement?.closest(".lc-cell") != null;
}

/** Where the panel goes: a thebe launch button's place (the `thebe-button` directive), else the
 * top of the page's main content, as themes mark it. */
export function panelPlace(document: Document): { parent: Element; before: Element | null } {
  const button = document.querySelector(".thebe-launch-button, .livecells-panel-slot");
  if (button?.parentElement) return { parent: button.parentElement, before: button };
  // livecells' own pages; pydata-sphinx-theme and sphinx-book-theme (whose role=main holds the
  // article's header too); furo; alabaster and Sphinx's basic layout.
  const places = ["main.lc-page", "article.bd-article", "article[role='main']", "[role='main']", "main"];
  const main = places.map((selector) => document.querySelector(selector)).find((found) => found) ?? document.body;
  // Before the page's first section: after what a theme keeps above it (furo's edit and
  // theme buttons), so the sticky panel does not cover it.
  return { parent: main, before: main.querySelector(":scope > section") ?? main.firstElementChild };
}
