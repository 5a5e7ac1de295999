// The lazy chunks (editor, Markdown, math) load through the page's import map, which holds
// each one's integrity hash: a chunk changed on the host since the build is refused by the
// browser, and the reader is told here, where it was needed, instead of the page just not
// reacting.

/** A problem block for a lazy part of the client that could not be loaded. */
export function chunkProblem(what: string, error: unknown): HTMLElement {
  const pre = document.createElement("pre");
  pre.className = "lc-output lc-error lc-problem lc-chunk-problem";
  pre.textContent = chunkProblemText(what, error);
  return pre;
}

export function chunkProblemText(what: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return (
    `livecells could not load ${what} (${reason}). Its file on this site failed the browser's ` +
    "integrity check (changed since the site was built) or could not be fetched: reload the " +
    "page, and if this persists tell the site's author."
  );
}
