// thebe-core on a page of another site: connects to the livecells server named in ?server=,
// starts a session (as MyST sites do) and runs a cell (`&cookies=0`: without the visitor's
// cookie, as MyST configures it); the page shows what happened in #result (data-state="done" or "failed").
import { ThebeServer, makeConfiguration, makeRenderMimeRegistry } from "thebe-core";

const result = document.getElementById("result");
const params = new URLSearchParams(location.search);
const server = params.get("server");
// With cookies (credentials "include"), or as MyST sites configure thebe ({url} only): its
// own fetch mode (no cookies to another site) and a random token per page.
const serverSettings =
  params.get("cookies") === "0"
    ? { baseUrl: server }
    : {
        baseUrl: server,
        token: "",
        appendToken: false,
        init: { credentials: "include", cache: "no-store" },
      };
try {
  const config = makeConfiguration({
    kernelOptions: { kernelName: "python3", path: "/" },
    serverSettings,
  });
  const thebe = new ThebeServer(config);
  await thebe.connectToJupyterServer();
  await thebe.ready;
  const session = await thebe.startNewSession(makeRenderMimeRegistry());
  let text = "";
  const future = session.kernel.requestExecute({ code: "print(6 * 7)" });
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") text += msg.content.text;
  };
  await future.done;
  result.textContent = text.trim();
  result.dataset.state = "done";
} catch (error) {
  result.textContent = String(error && error.message ? error.message : error);
  result.dataset.state = "failed";
}
