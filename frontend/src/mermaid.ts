// Mermaid diagrams (``{mermaid}``, rendered by livecells.myst.html as ``pre.lc-mermaid`` with the
// diagram's source, readable without JavaScript): mermaid itself is self-hosted, loaded only on
// a page that has a diagram, as a lazy chunk under the import map's integrity hashes. Its
// "strict" security level sanitises labels and refuses click handlers.

import { chunkProblem } from "./chunks";

export async function renderDiagrams(root: ParentNode): Promise<void> {
  const diagrams = [...root.querySelectorAll<HTMLElement>("pre.lc-mermaid")];
  if (!diagrams.length) return;
  let mermaid: typeof import("mermaid").default;
  try {
    mermaid = (await import("mermaid")).default;
  } catch (error) {
    diagrams[0].after(chunkProblem("the diagram renderer", error));
    return;
  }
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  for (const [index, pre] of diagrams.entries()) {
    try {
      const { svg } = await mermaid.render(`lc-mermaid-${index}`, pre.textContent ?? "");
      const figure = document.createElement("div");
      figure.className = "lc-mermaid-diagram";
      figure.setAttribute("role", "img");
      figure.setAttribute("aria-label", pre.textContent ?? "diagram");
      figure.innerHTML = svg;
      pre.replaceWith(figure);
    } catch (error) {
      pre.dataset.error = error instanceof Error ? error.message : String(error);
    }
  }
}
