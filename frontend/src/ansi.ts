// ANSI text (streams, tracebacks) to DOM: SGR colours as the `ansi-*` classes Jupyter
// frontends use; carriage returns and backspaces behave as on a terminal.

const COLOURS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
const SGR = /\x1b\[([0-9;]*)m/g;
const OTHER = /\x1b\[[0-9;?]*[A-Za-ln-z]/g;

/** Apply \r (back to line start) and \b (erase one) the way a terminal shows them. */
export function fixConsole(text: string): string {
  let out = text;
  while (/[^\n\x08]\x08/.test(out)) out = out.replace(/[^\n\x08]\x08/g, "");
  out = out.replace(/\x08/g, "");
  out = out
    .split("\n")
    .map((line) => {
      const parts = line.split("\r");
      let shown = "";
      for (const part of parts) shown = part + shown.slice(part.length);
      return shown;
    })
    .join("\n");
  return out;
}

export function ansiToElements(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  let classes: string[] = [];
  let position = 0;
  const clean = fixConsole(text).replace(OTHER, "");
  for (const match of clean.matchAll(SGR)) {
    append(fragment, clean.slice(position, match.index), classes);
    classes = applySgr(classes, match[1]);
    position = (match.index ?? 0) + match[0].length;
  }
  append(fragment, clean.slice(position), classes);
  return fragment;
}

function append(fragment: DocumentFragment, text: string, classes: string[]): void {
  if (!text) return;
  if (!classes.length) {
    fragment.append(text);
    return;
  }
  const span = document.createElement("span");
  span.className = classes.join(" ");
  span.textContent = text;
  fragment.append(span);
}

function applySgr(classes: string[], codes: string): string[] {
  let result = [...classes];
  const numbers = codes.split(";").filter(Boolean).map(Number);
  for (const code of numbers.length ? numbers : [0]) {
    if (code === 0) result = [];
    else if (code === 1) result.push("ansi-bold");
    else if (code === 4) result.push("ansi-underline");
    else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
      result = result.filter((c) => !c.endsWith("-fg"));
      result.push(`ansi-${code >= 90 ? "bright-" : ""}${COLOURS[code % 10]}-fg`);
    } else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) {
      result = result.filter((c) => !c.endsWith("-bg"));
      result.push(`ansi-${code >= 100 ? "bright-" : ""}${COLOURS[code % 10]}-bg`);
    } else if (code === 39) result = result.filter((c) => !c.endsWith("-fg"));
    else if (code === 49) result = result.filter((c) => !c.endsWith("-bg"));
  }
  return result;
}
