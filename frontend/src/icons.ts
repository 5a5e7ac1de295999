// The panel's icons: small inline SVGs (24×24, drawn with currentColor), so a button reads the
// same on every system font and in dark mode; where its text label does not fit (a phone) the
// icon stays and the button keeps its accessible name and tooltip.

const PATHS = {
  power: "M12 3v8M6.3 6.8a8 8 0 1 0 11.4 0",
  runAll: "M4 5l7 7-7 7zM13 5l7 7-7 7z",
  interrupt: "M6 6h12v12H6z",
  restart: "M4 12a8 8 0 1 0 2.4-5.7M4 4v5h5",
  settings: "M4 7h10M18 7h2M4 17h2M10 17h10M16 5v4M8 15v4",
  sessions: "M5 6h14M5 12h14M5 18h14",
  external: "M14 4h6v6M20 4l-9 9M18 14v5H5V6h5",
  pages: "M6 3h9l3 3v15H6zM9 10h6M9 14h6M9 18h4",
} as const;

export type IconName = keyof typeof PATHS;

export function icon(name: IconName): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("lc-icon", `lc-icon-${name}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}
