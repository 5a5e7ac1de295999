declare module "katex/contrib/auto-render" {
  interface Delimiter {
    left: string;
    right: string;
    display: boolean;
  }
  export default function renderMathInElement(
    element: HTMLElement,
    options?: { delimiters?: Delimiter[]; throwOnError?: boolean; trust?: boolean },
  ): void;
}

declare module "*.py" {
  const source: string;
  export default source;
}

/** The Jupyter widgets' stylesheet, bundled by build.mjs (controls, lumino, output, themes). */
declare module "livecells:widget-css" {
  const css: string;
  export default css;
}

/** ipympl's stylesheet, bundled by build.mjs (jupyter-matplotlib's, and its toolbar icons). */
declare module "livecells:ipympl-css" {
  const css: string;
  export default css;
}

/** npm jupyter-matplotlib ships no types: its models and views, and its version. */
declare module "jupyter-matplotlib" {
  export const MODULE_VERSION: string;
  export const MODULE_NAME: string;
}

// BokehJS's ES module bundles (npm @bokeh/bokehjs, build/js/*.esm.min.js) carry no types:
// bokeh.ts says what it uses of them.
declare module "@bokeh/bokehjs/build/js/bokeh.esm.min.js" {
  const Bokeh: unknown;
  export default Bokeh;
}
declare module "@bokeh/bokehjs/build/js/bokeh-widgets.esm.min.js";
declare module "@bokeh/bokehjs/build/js/bokeh-tables.esm.min.js";
