// A JupyterLab client (@jupyterlab/services) of a `livecells serve --public` server, under
// Node.js with a cookie jar, as one visitor: opens the site's page (its cookies), starts a
// session, runs a cell, lists the kernels and sessions it sees. `node jlab-client.mjs URL`
// prints one JSON line.
import { KernelAPI, KernelManager, ServerConnection, SessionManager } from "@jupyterlab/services";
import WebSocket from "ws";

const base = process.argv[2];
const jar = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(";")[0];
    const at = pair.indexOf("=");
    jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
}
const cookies = () => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");

// What a browser adds to a page's requests: its cookies, and the page's _xsrf echoed.
async function browserFetch(input, init) {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set("Cookie", cookies());
  if (jar.has("_xsrf")) headers.set("X-XSRFToken", jar.get("_xsrf"));
  const response = await fetch(new Request(request, { headers }));
  remember(response);
  return response;
}
class BrowserSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { headers: { Cookie: cookies() } });
  }
}

remember(await fetch(`${base}livecells/`));
const serverSettings = ServerConnection.makeSettings({
  baseUrl: base,
  wsUrl: base.replace(/^http/, "ws"),
  token: "",
  fetch: browserFetch,
  Request,
  Headers,
  WebSocket: BrowserSocket,
});
const kernelManager = new KernelManager({ serverSettings });
const sessions = new SessionManager({ kernelManager, serverSettings });
await sessions.ready;
const session = await sessions.startNew({
  path: "index.md",
  name: "index.md",
  type: "notebook",
  kernel: { name: "python3" },
});
let text = "";
const future = session.kernel.requestExecute({ code: "print(6 * 7)" });
future.onIOPub = (msg) => {
  if (msg.header.msg_type === "stream") text += msg.content.text;
};
await future.done;
const kernels = (await KernelAPI.listRunning(serverSettings)).map((model) => model.id);
await sessions.refreshRunning();
const running = [...sessions.running()].map((model) => model.id);
console.log(JSON.stringify({ session: session.id, kernel: session.kernel.id, text, kernels, sessions: running }));
session.dispose();
sessions.dispose();
kernelManager.dispose();
process.exit(0);
