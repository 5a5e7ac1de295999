// Math typesetting, loaded only when a page or an output has math: KaTeX (self-hosted) by
// default, MathJax when the page's config names one (mathjaxUrl / mathjaxConfig).

import { chunkProblem } from "./chunks";

/** KaTeX's `integrity`: its stylesheet's hash, set by the build. */
export type MathConfig = { engine: "katex"; integrity?: string } | { engine: "mathjax"; url: string; config?: string | null };

let mathjaxLoading: Promise<void> | null = null;
let katexCss = false;
let mathFailed = false;

export function hasMath(text: string): boolean {
  return /\\\(|\\\[|\$|\\begin\{/.test(text);
}

export async function typeset(element: HTMLElement, config: MathConfig, staticUrl: string): Promise<void> {
  if (!hasMath(element.textContent || "")) return;
  if (config.engine === "mathjax") return typesetMathJax(element, config.url, config.config ?? null);
  if (!katexCss) {
    katexCss = true;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = `${staticUrl}katex/katex.min.css`;
    if (config.integrity) link.integrity = config.integrity;
    document.head.append(link);
  }
  let renderMathInElement: typeof import("katex/contrib/auto-render").default;
  try {
    ({ default: renderMathInElement } = await import("katex/contrib/auto-render"));
  } catch (error) {
    if (!mathFailed) element.append(chunkProblem("math typesetting (KaTeX)", error));
    mathFailed = true;
    return;
  }
  renderMathInElement(element, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$", right: "$", display: false },
      { left: "\\begin{equation}", right: "\\end{equation}", display: true },
      { left: "\\begin{align}", right: "\\end{align}", display: true },
    ],
    throwOnError: false,
    trust: false,
  });
}

async function typesetMathJax(element: HTMLElement, url: string, config: string | null): Promise<void> {
  const global = window as unknown as { MathJax?: { typesetPromise?: (els: HTMLElement[]) => Promise<void> } & Record<string, unknown> };
  if (!mathjaxLoading) {
    mathjaxLoading = new Promise((resolve, reject) => {
      if (config) {
        try {
          global.MathJax = JSON.parse(config);
        } catch {
          console.warn("livecells: mathjaxConfig is not JSON; ignored");
        }
      }
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`cannot load MathJax from ${url}`));
      document.head.append(script);
    });
  }
  await mathjaxLoading;
  for (let i = 0; i < 50 && !global.MathJax?.typesetPromise; i++) await new Promise((r) => setTimeout(r, 100));
  await global.MathJax?.typesetPromise?.([element]);
}
