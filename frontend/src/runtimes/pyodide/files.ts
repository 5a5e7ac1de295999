// The page's own files in Python's file system, as a server kernel sees them: Python starts in
// the page's folder (under MOUNT), `os.listdir` shows what the site's listing offers, and a
// file's bytes are fetched the first time Python opens it, then checked against the listing's
// sha256 (livecells.pagefiles writes the listings).
//
// The fetch happens inside the file system call, so it must be synchronous: a synchronous
// XMLHttpRequest in the browser's worker (allowed in workers, with or without cross-origin
// isolation, with or without JSPI; JSPI cannot suspend inside an Emscripten syscall), a
// synchronous read under Node.js. Each listed file is an ordinary in-memory (MEMFS) file whose
// open, stat and truncate are wrapped; writes stay in this Python session.

import type { EmscriptenFS, FSNode } from "./api";
import { sha256 } from "./sha256";

/** Where the site's root is in Python's file system. */
export const MOUNT = "/site";
const FORMAT = "livecells-files/1";
/** Emscripten's EIO: Python gets OSError, and the kernel adds why (problem()). */
const EIO = 29;

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface Listing {
  /** The site's root: absolute, or relative to the listing's URL. */
  root: string;
  /** The page's folder, relative to the root ("" for the top). */
  folder: string;
  files: FileEntry[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A relative, `/`-separated path without empty, `.`, `..` or hidden parts. */
function safePath(path: unknown): path is string {
  return typeof path === "string" && path.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.includes("\\"));
}

/** `value` as a listing; throws, naming the first entry that is wrong, when it is not one. */
export function parseListing(value: unknown): Listing {
  const data = value as Partial<Listing> & { format?: unknown };
  if (!data || typeof data !== "object" || data.format !== FORMAT) throw new Error(`not a livecells file listing (format ${FORMAT})`);
  if (typeof data.root !== "string") throw new Error("its root is not a URL");
  if (typeof data.folder !== "string" || (data.folder !== "" && !safePath(data.folder))) throw new Error(`its folder ${JSON.stringify(data.folder)} is not a folder of the site`);
  if (!Array.isArray(data.files)) throw new Error("its files are not a list");
  const seen = new Set<string>();
  const folders = new Set<string>();
  data.files.forEach((entry: Partial<FileEntry>, index) => {
    const where = `files[${index}]`;
    if (!entry || typeof entry !== "object") throw new Error(`${where} is not an object`);
    if (!safePath(entry.path)) throw new Error(`${where}.path ${JSON.stringify(entry.path)} is not a path inside the site`);
    if (!Number.isSafeInteger(entry.size) || (entry.size as number) < 0) throw new Error(`${where}.size is not a size in bytes`);
    if (typeof entry.sha256 !== "string" || !HEX64.test(entry.sha256)) throw new Error(`${where}.sha256 is not a SHA-256 in hex`);
    const parts = entry.path.split("/");
    if (seen.has(entry.path) || folders.has(entry.path)) throw new Error(`${where}.path ${entry.path} is listed twice, or as a file and a folder`);
    seen.add(entry.path);
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join("/");
      if (seen.has(folder)) throw new Error(`${where}.path ${entry.path} is inside ${folder}, which is a file`);
      folders.add(folder);
    }
  });
  return { root: data.root, folder: data.folder, files: data.files as FileEntry[] };
}

/** The URL of `path` (relative to the site's root) under `root`. */
export function fileURL(root: string, path: string): string {
  return new URL(path.split("/").map(encodeURIComponent).join("/"), root).href;
}

/** The listed files, mounted lazily; `problem()` says why a file could not be opened. */
export class PageFiles {
  private problems = new Map<string, string>();
  /** How many files were fetched (the rest cost nothing). */
  fetched = 0;

  /** `root`: the site's root as an absolute URL; `read`: a synchronous fetch. */
  constructor(
    private fs: EmscriptenFS,
    private listing: Listing,
    private root: string,
    private read: (url: string) => Uint8Array,
  ) {}

  /** Make the files and folders, and go to the page's folder. */
  mount(): void {
    const fs = this.fs;
    for (const entry of this.listing.files) {
      const path = `${MOUNT}/${entry.path}`;
      fs.mkdirTree(path.slice(0, path.lastIndexOf("/")));
      fs.writeFile(path, new Uint8Array(0));
      this.lazy(fs.lookupPath(path).node, entry, path);
    }
    const cwd = this.listing.folder ? `${MOUNT}/${this.listing.folder}` : MOUNT;
    fs.mkdirTree(cwd);
    fs.chdir(cwd);
  }

  /** Why the file at `path` (absolute, in Python's file system) could not be opened. */
  problem(path: string): string | null {
    return this.problems.get(path) ?? null;
  }

  private lazy(node: FSNode, entry: FileEntry, path: string): void {
    let loaded = false;
    const nodeOps = node.node_ops;
    const streamOps = node.stream_ops;
    const load = (): void => {
      if (loaded) return;
      const bytes = this.fetch(entry, path);
      node.contents = bytes;
      node.usedBytes = bytes.length;
      loaded = true;
    };
    node.node_ops = {
      ...nodeOps,
      getattr: (n: FSNode) => {
        const attr = nodeOps.getattr(n);
        if (!loaded) attr.size = entry.size;
        return attr;
      },
      setattr: (n: FSNode, attr: { size?: number }) => {
        if (attr.size !== undefined && !loaded) {
          if (attr.size === 0) loaded = true; // truncated ("w"): nothing to fetch
          else load();
        }
        nodeOps.setattr(n, attr);
      },
    };
    node.stream_ops = {
      ...streamOps,
      open: (stream: unknown) => {
        load();
        streamOps.open?.(stream);
      },
    };
  }

  /** The file's bytes, checked; throws Emscripten's EIO, keeping why for problem(). */
  private fetch(entry: FileEntry, path: string): Uint8Array {
    const url = fileURL(this.root, entry.path);
    let problem: string;
    try {
      const bytes = this.read(url);
      const digest = sha256(bytes);
      if (bytes.length === entry.size && digest === entry.sha256) {
        this.problems.delete(path);
        this.fetched += 1;
        return bytes;
      }
      problem =
        `${entry.path} was refused: its bytes (${bytes.length} bytes, sha256 ${digest.slice(0, 12)}…) are not those the site's listing ` +
        `names (${entry.size} bytes, sha256 ${entry.sha256.slice(0, 12)}…); the file changed after the listing was made: rebuild the site ` +
        "(livecells build), or reload the page under livecells serve";
    } catch (error) {
      problem = `${entry.path} could not be fetched from ${url}: ${(error as Error).message}`;
    }
    this.problems.set(path, problem);
    throw new this.fs.ErrnoError(EIO);
  }
}
