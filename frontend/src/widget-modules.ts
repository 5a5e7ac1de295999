// Widget modules beyond ipywidgets' own, each a lazy chunk loaded when a kernel first asks for
// one of its models: anywidget (its front end is the module its model carries) and ipympl's
// jupyter-matplotlib (bundled; the version a kernel asks for must match it).

import { satisfies } from "./afm";
import type { RenderOptions } from "./outputs";

/** The classes of widget module `name`, or null when it is none of these (ipywidgets' own). */
export async function otherModule(name: string, version: string, options: RenderOptions): Promise<Record<string, unknown> | null> {
  if (name === "anywidget") {
    const { anywidgetClasses } = await import("./anywidget");
    return anywidgetClasses(options.widgetESM === true);
  }
  if (name === "jupyter-matplotlib") {
    const { VERSION, ipymplClasses } = await import("./ipympl");
    if (!satisfies(version, VERSION)) {
      throw new Error(`the kernel's ipympl asks for jupyter-matplotlib ${version}; this page has ${VERSION} (ipympl 0.10's)`);
    }
    return ipymplClasses();
  }
  return null;
}
