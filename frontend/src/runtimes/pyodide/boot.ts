// Loading Pyodide: from the first of the index URLs that loads within the time allowed,
// restored from the build's memory snapshot when there is one.

import type { PyodideAPI } from "./api";
import type { BootOptions, Environment } from "./messages";
import { matchThisRuntime, SNAPSHOT } from "./snapshot";

/** A folder URL, ending in `/`. */
export function folder(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/** `promise`, or a rejection once `ms` passed (no limit when `ms` is 0 or less). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!ms || ms <= 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export interface Loaded {
  pyodide: PyodideAPI;
  /** Which of the index URLs it came from. */
  index: number;
}

/** Pyodide from the first index URL that loads; `loading` says which is tried. Throws, saying
 * why each failed, when none does. */
export async function loadFirst(env: Environment, options: BootOptions, loading: (detail: string) => void): Promise<Loaded> {
  const failures: string[] = [];
  for (const [index, indexURL] of options.indexURLs.entries()) {
    const base = folder(indexURL);
    loading(`loading Python (Pyodide) from ${base}`);
    try {
      const pyodide = await withTimeout(load(env, base, options), options.timeoutMs, `loading Pyodide from ${base}`);
      return { pyodide, index };
    } catch (error) {
      failures.push(`${base}: ${(error as Error).message}`);
    }
  }
  throw new Error(`Python could not be loaded: ${failures.join("; ")}`);
}

async function load(env: Environment, base: string, boot: BootOptions): Promise<PyodideAPI> {
  const module = await env.importModule(`${base}pyodide.mjs`);
  const options = { indexURL: base, ...(boot.lockFileURL ? { lockFileURL: boot.lockFileURL } : {}) };
  const snapshot = boot.snapshot ? await env.readFile(`${base}${SNAPSHOT}`).catch(() => null) : null;
  if (snapshot) {
    try {
      const restored = await module.loadPyodide({ ...options, _loadSnapshot: snapshot });
      matchThisRuntime(restored);
      return restored;
    } catch {
      // A snapshot from another build of Pyodide, or one matchThisRuntime cannot adapt:
      // start the interpreter the slow way.
    }
  }
  return module.loadPyodide(options);
}
