// Installing packages into the worker's Python (the page's `packages`, and `%pip install`):
// what the site does not ship (compiled code, say) may be on a later index URL, such as
// Pyodide's full distribution on a CDN, built for Pyodide; micropip takes the rest from the
// site's own wheels (its lock file) first, then from the package index.

import type { Progress, PyodideAPI } from "./api";
import { folder } from "./boot";
import type { BootOptions, Environment } from "./messages";

/** A lock file's packages: file name and dependencies, keyed by normalised name. */
export type LockPackages = Record<string, { file_name: string; depends: string[] }>;

/** A requirement's name as lock files key it (PEP 503, without the version). */
export function lockKey(requirement: string): string {
  return requirement.split(/[<>=!~ ;[]/)[0].toLowerCase().replace(/[-_.]+/g, "-");
}

/** The files of `names` and all they depend on, from a lock file's packages; null when one of
 * them is not there. */
export function lockFiles(packages: LockPackages, names: string[]): string[] | null {
  const files = new Set<string>();
  const add = (name: string): boolean => {
    const entry = packages[lockKey(name)] ?? packages[name.toLowerCase()];
    if (!entry) return false;
    if (files.has(entry.file_name)) return true;
    files.add(entry.file_name);
    return entry.depends.every(add);
  };
  return names.every(add) ? [...files] : null;
}

const decoder = new TextDecoder();

export class Installer {
  private shipped: Record<string, unknown> | null = null;

  /** `loadedFrom`: the index of the index URL Pyodide came from. */
  constructor(
    private py: PyodideAPI,
    private env: Environment,
    private options: BootOptions,
    private loadedFrom: number,
    private status: (state: "installing" | "ready", detail: string) => void,
  ) {}

  /** Install `names`; says `installing` while at it, `ready` when done (a cell's `%pip
   * install` waits for it). */
  async install(names: string[]): Promise<void> {
    const py = this.py;
    this.status("installing", `installing ${names.join(", ")}`);
    const progress: Progress = { messageCallback: (m) => this.status("installing", m), errorCallback: (m) => this.status("installing", m) };
    const shipped = await this.siteLock();
    const missing = names.filter((name) => !(lockKey(name) in shipped));
    const elsewhere = missing.length ? await this.fromLaterIndex(missing, progress) : false;
    const rest = elsewhere ? names.filter((name) => !missing.includes(name)) : names;
    if (rest.length) {
      await py.loadPackage("micropip", progress);
      const micropip = py.pyimport("micropip");
      try {
        await (micropip.install as (n: string[]) => Promise<void>)(rest);
      } finally {
        micropip.destroy();
      }
    }
    this.status("ready", `installed ${names.join(", ")}`);
  }

  /** The packages of the site's own lock file (none when it has none). */
  private async siteLock(): Promise<Record<string, unknown>> {
    if (this.shipped) return this.shipped;
    const base = this.options.indexURLs[this.loadedFrom] ?? "";
    const url = this.options.lockFileURL ?? `${folder(base)}pyodide-lock.json`;
    try {
      const lock = JSON.parse(decoder.decode(await this.env.readFile(url))) as { packages?: Record<string, unknown> };
      this.shipped = lock.packages ?? {};
    } catch {
      this.shipped = {};
    }
    return this.shipped;
  }

  /** Load all of `names` from the first later index URL whose lock file has them all. */
  private async fromLaterIndex(names: string[], progress: Progress): Promise<boolean> {
    for (const url of this.options.indexURLs.slice(this.loadedFrom + 1)) {
      const base = folder(url);
      try {
        const text = decoder.decode(await this.env.readFile(`${base}pyodide-lock.json`));
        const lock = JSON.parse(text) as { packages: LockPackages };
        const files = lockFiles(lock.packages, names);
        if (!files) continue;
        await this.py.loadPackage(files.map((file) => new URL(file, base).href), progress);
        return true;
      } catch {
        continue;
      }
    }
    return false;
  }
}
