// The same worker core in a Node.js worker thread (started by node.ts).

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parentPort } from "node:worker_threads";
import { serve } from "./core";
import type { HostMessage } from "./messages";

const port = parentPort;
if (!port) throw new Error("node-worker.ts runs in a worker thread");

serve(
  {
    post: (message) => port.postMessage(message),
    listen: (handler) => port.on("message", (message: HostMessage) => handler(message)),
  },
  {
    importModule: (url) => import(/^[a-z]+:\/\//i.test(url) ? url : pathToFileURL(url).href),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    readFileSync: (url) => new Uint8Array(readFileSync(new URL(url))),
  },
);
