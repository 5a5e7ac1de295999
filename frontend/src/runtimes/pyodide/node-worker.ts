// The same worker core in a Node.js worker thread (started by node.ts).

import { pathToFileURL } from "node:url";
import { parentPort } from "node:worker_threads";
import { type HostMessage, serve } from "./core";

const port = parentPort;
if (!port) throw new Error("node-worker.ts runs in a worker thread");

serve(
  {
    post: (message) => port.postMessage(message),
    listen: (handler) => port.on("message", (message: HostMessage) => handler(message)),
  },
  (url) => import(/^[a-z]+:\/\//i.test(url) ? url : pathToFileURL(url).href),
);
