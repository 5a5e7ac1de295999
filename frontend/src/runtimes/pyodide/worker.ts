// The browser's module worker: Pyodide >= 0.27 needs `new Worker(url, {type: "module"})`.

import { serve } from "./core";
import type { HostMessage } from "./messages";

declare const self: {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: HostMessage }) => void): void;
};

serve(
  {
    post: (message) => self.postMessage(message),
    listen: (handler) => self.addEventListener("message", (event) => handler(event.data)),
  },
  {
    importModule: (url) => import(/* webpackIgnore: true */ url),
    readFile: async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: ${response.status} ${(await response.text()).slice(0, 300)}`.trim());
      return new Uint8Array(await response.arrayBuffer());
    },
    readFileSync: (url) => {
      const request = new XMLHttpRequest();
      request.open("GET", url, false);
      request.responseType = "arraybuffer";
      request.send();
      if (request.status !== 200) throw new Error(`HTTP ${request.status}`);
      return new Uint8Array(request.response as ArrayBuffer);
    },
  },
);
