// ipympl's figures (`%matplotlib widget`): its front end, npm jupyter-matplotlib, as a lazy
// chunk of its own (with lodash, which it needs), loaded when a kernel opens the first
// `jupyter-matplotlib` model. The figure is a canvas the kernel sends PNGs for (blob: images,
// which the page's CSP allows); the toolbar, pan and zoom are jupyter-matplotlib's own.

import * as mpl from "jupyter-matplotlib";
import css from "livecells:ipympl-css";

/** The version of jupyter-matplotlib bundled here (a kernel's ipympl asks for a range). */
export const VERSION: string = mpl.MODULE_VERSION;

let styled = false;

/** jupyter-matplotlib's models and views, its stylesheet added to the page once. */
export function ipymplClasses(): Record<string, unknown> {
  if (!styled) {
    styled = true;
    const style = document.createElement("style");
    style.dataset.livecells = "ipympl";
    style.textContent = css;
    document.head.append(style);
  }
  return mpl as unknown as Record<string, unknown>;
}
