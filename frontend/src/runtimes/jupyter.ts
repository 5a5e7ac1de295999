// A kernel on a Jupyter Server, over its REST API and kernel WebSocket. Runtime `livecells`
// is the serving livecells process itself (same origin, cookie + _xsrf, no token in the page);
// runtime `server` is a server the author named ({url, token}).

import {
  type Channel,
  type Header,
  type JSONObject,
  type Message,
  V1_PROTOCOL,
  decodeJSON,
  decodeLegacyBinary,
  decodeV1,
  encodeJSON,
  encodeV1,
  newMessage,
  uuid,
} from "../protocol";
import type { Sessions } from "../sessions";
import { BaseRuntime } from "./base";
import { Executions } from "./executions";
import { type CommMessageType, type ExecuteCallbacks, type ExecuteReply, executeRequest, type HelpRequest } from "./runtime";

export interface JupyterOptions {
  name: "livecells" | "server";
  baseUrl: string;
  token: string | null;
  kernelName: string;
  /** The page's path relative to the server's root: the kernel starts in its folder. */
  path: string | null;
  sessions: Sessions;
}

const READY_TIMEOUT = 60_000;
const RECONNECT_LIMIT = 30_000;
/** How often a connected page checks that its kernel still exists: jupyter_server keeps the
 * WebSocket of a kernel someone else shut down open, silent. */
const LIVENESS_INTERVAL = 5_000;
/** A completion or tooltip later than this is no help: the editor gives up on it. */
const HELP_TIMEOUT = 5_000;

export class JupyterRuntime extends BaseRuntime {
  readonly name: string;
  private socket: WebSocket | null = null;
  private kernelId: string | null = null;
  private session = uuid();
  private executions = new Executions();
  private replies = new Map<string, (msg: Message) => void>();
  /** Requests waiting to be heard of on iopub (see waitReady), by msg_id. */
  private heard = new Map<string, () => void>();
  private closing = false;
  private binary = false;
  /** The subprotocols to ask for: v1 until a server is found not to speak it. */
  private protocols = [V1_PROTOCOL];
  private liveness: ReturnType<typeof setInterval> | null = null;
  /** A restart this page asked for, until the kernel answers again. */
  private restarting: Promise<void> | null = null;

  constructor(private options: JupyterOptions) {
    super();
    this.name = options.name;
  }

  get id(): string | null {
    return this.kernelId;
  }

  private get scope(): string {
    return `${this.options.name}:${new URL(this.options.baseUrl, location.href).href}:${this.options.kernelName}`;
  }

  // -- REST ---------------------------------------------------------------------------------

  private url(path: string): string {
    return new URL(path, new URL(this.options.baseUrl, location.href)).href;
  }

  private headers(method: string): Record<string, string> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.options.token) headers.Authorization = `token ${this.options.token}`;
    else if (method !== "GET") {
      const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
      if (xsrf) headers["X-XSRFToken"] = decodeURIComponent(xsrf[1]);
    }
    return headers;
  }

  private async api(method: string, path: string, body?: JSONObject): Promise<Response> {
    const headers = this.headers(method);
    if (body) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        credentials: this.options.token ? "omit" : "same-origin",
      });
    } catch {
      throw new Error(await explainFailure(this.options.baseUrl, this.options.token));
    }
    if (response.status === 401 || response.status === 403) {
      throw new Error(
        this.options.token
          ? refusedToken(this.url(""))
          : this.options.name === "server"
            ? needsToken(this.url(""))
            : "not logged in to this server: open the link `livecells serve` printed (with its token) once",
      );
    }
    return response;
  }

  /** The server's own UI (with the token, as `jupyter server` prints it), for runtime
   * `server`; the serving livecells links to its documents itself. */
  get jupyterUrl(): string | null {
    if (this.options.name !== "server") return null;
    const url = new URL(this.url(""));
    if (this.options.token) url.searchParams.set("token", this.options.token);
    return url.href;
  }

  // -- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    this.closing = false;
    this.setStatus("connecting", `connecting to ${this.url("")}`);
    try {
      const saved = this.options.sessions.load(this.scope);
      if (saved && (await this.exists(saved.kernelId))) {
        this.kernelId = saved.kernelId;
      } else {
        if (saved) this.options.sessions.forget(this.scope);
        const body: JSONObject = { name: this.options.kernelName };
        if (this.options.path) body.path = this.options.path;
        const response = await this.api("POST", "api/kernels", body);
        if (!response.ok) {
          const detail = await response.json().catch(() => ({}));
          throw new Error(
            `the server could not start kernel "${this.options.kernelName}": ${detail.message || response.statusText}`,
          );
        }
        this.kernelId = ((await response.json()) as { id: string }).id;
      }
      this.options.sessions.save(this.scope, this.kernelId, this.options.kernelName);
      if (!this.options.sessions.enabled) addEventListener("pagehide", this.onPageHide);
      this.setStatus("starting", `kernel ${this.options.kernelName} starting`);
      await this.connect();
      await this.waitReady();
      this.watchLiveness();
    } catch (error) {
      this.setStatus("error", (error as Error).message);
      throw error;
    }
  }

  /** Opens the kernel WebSocket, v1 framing first. A server without it (before jupyter_server
   *  2, or so configured) answers the handshake with no subprotocol, which Chromium refuses:
   *  then once more without asking for one, the JSON framing every server speaks. */
  private async connect(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      if (this.protocols.length === 0) throw error;
      this.protocols = [];
      await this.open();
    }
  }

  private open(): Promise<void> {
    const url = new URL(`api/kernels/${this.kernelId}/channels`, new URL(this.options.baseUrl, location.href));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("session_id", this.session);
    if (this.options.token) url.searchParams.set("token", this.options.token);
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url.href, this.protocols);
      socket.binaryType = "arraybuffer";
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.socket = socket;
        this.binary = socket.protocol === V1_PROTOCOL;
        resolve();
      };
      socket.onmessage = (event) => this.receive(event.data as ArrayBuffer | string);
      socket.onclose = () => {
        if (!opened) reject(new Error("the kernel WebSocket did not open"));
        else if (this.socket === socket) void this.reconnect();
      };
    });
  }

  private async reconnect(): Promise<void> {
    this.socket = null;
    if (this.closing) return;
    this.setStatus("disconnected", "connection lost, reconnecting");
    const deadline = Date.now() + RECONNECT_LIMIT;
    let delay = 250;
    while (Date.now() < deadline && !this.closing) {
      await sleep(delay);
      delay = Math.min(delay * 2, 4000);
      const kernelId = this.kernelId;
      const exists = kernelId ? await this.exists(kernelId) : false;
      if (exists === false) return this.died(GONE);
      if (exists === null) continue; // server unreachable: keep trying until the deadline
      try {
        await this.connect();
        this.setStatus("idle", "reconnected");
        return;
      } catch {
        // the socket did not open yet: try again
      }
    }
    this.died(`lost the connection to the Jupyter server at ${this.url("")} (is it still running?): press Start again to reconnect`);
  }

  /**
   * Does the server still have the kernel: true, false, or null when it cannot be asked (down,
   * unreachable). jupyter_server answers a gone kernel's `api/kernels/{id}` with a 404 that
   * lacks the CORS headers, which a page on another origin sees only as a failed request, like
   * a server that is down; the kernel list carries them, so it tells the two apart.
   */
  private async exists(kernelId: string): Promise<boolean | null> {
    try {
      const response = await this.api("GET", `api/kernels/${kernelId}`);
      if (response.ok) return true;
      if (response.status === 404) return false;
    } catch {
      // a 404 without CORS headers, or no answer: ask the list
    }
    try {
      const response = await this.api("GET", "api/kernels");
      if (!response.ok) return null;
      const list = (await response.json()) as { id?: string }[];
      return Array.isArray(list) && list.some((kernel) => kernel.id === kernelId);
    } catch {
      return null;
    }
  }

  /** Without session saving no later page re-attaches to this kernel: shut it down as the page
   * goes (a keepalive request outlives the page; it is preflighted cross-origin like any
   * DELETE, which a server with allow_origin answers). */
  private onPageHide = (): void => {
    if (!this.kernelId || this.closing) return;
    void fetch(this.url(`api/kernels/${this.kernelId}`), {
      method: "DELETE",
      keepalive: true,
      headers: this.headers("DELETE"),
      credentials: this.options.token ? "omit" : "same-origin",
    }).catch(() => undefined);
  };

  private watchLiveness(): void {
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = setInterval(() => void this.checkAlive(), LIVENESS_INTERVAL);
  }

  /** Is the kernel still on the server? Gone is gone for good; a server that does not answer
   * is left to the WebSocket's reconnect logic, which reports lasting trouble. */
  private async checkAlive(): Promise<void> {
    const kernelId = this.kernelId;
    if (this.closing || !kernelId || this.status === "dead") return;
    if ((await this.exists(kernelId)) === false && this.kernelId === kernelId && !this.closing) this.died(GONE);
  }

  private died(reason: string): void {
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.kernelId = null;
    this.options.sessions.forget(this.scope);
    this.executions.failAll(new Error(reason));
    this.setStatus("dead", reason);
  }

  /** Ready once a kernel_info request is answered on shell *and* its busy/idle status reaches
   *  the page on iopub. After a restart the server's iopub subscription reconnects in its own
   *  time (ZeroMQ's late joiner), and what the kernel publishes before is lost: a cell's outputs
   *  and its idle, so it would never end. jupyter_server "nudges" the same way, but only when a
   *  WebSocket opens, not after a restart. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT;
    while (Date.now() < deadline) {
      const msg = newMessage("shell", "kernel_info_request", {}, this.session);
      const id = msg.header.msg_id;
      const heard = new Promise<void>((resolve) => this.heard.set(id, resolve));
      try {
        await this.ask(msg, 1000);
        await Promise.race([heard, new Promise((_, reject) => setTimeout(() => reject(new Error("not heard on iopub")), 500))]);
        this.setStatus("ready", "kernel ready");
        return;
      } catch {
        // not answering yet, or its iopub not subscribed yet
      } finally {
        this.heard.delete(id);
      }
    }
    throw new Error(`the kernel did not answer within ${READY_TIMEOUT / 1000} s`);
  }

  private request(channel: Channel, type: string, content: JSONObject, timeout: number): Promise<Message> {
    return this.ask(newMessage(channel, type, content, this.session), timeout);
  }

  private ask(msg: Message, timeout: number): Promise<Message> {
    const type = msg.header.msg_type;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(msg.header.msg_id);
        reject(new Error(`no ${type} reply within ${timeout} ms`));
      }, timeout);
      this.replies.set(msg.header.msg_id, (reply) => {
        clearTimeout(timer);
        this.replies.delete(msg.header.msg_id);
        resolve(reply);
      });
      this.send(msg);
    });
  }

  private send(msg: Message): void {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      throw new Error("not connected to the kernel");
    }
    this.socket.send(this.binary ? encodeV1(msg) : encodeJSON(msg));
  }

  // -- messages -----------------------------------------------------------------------------

  private receive(data: ArrayBuffer | string): void {
    let msg: Message;
    try {
      if (typeof data === "string") msg = decodeJSON(data);
      else msg = this.binary ? decodeV1(data) : decodeLegacyBinary(data);
    } catch (error) {
      console.warn("livecells: dropped a malformed message", error);
      return;
    }
    this.route(msg, (next) => this.dispatch(next));
  }

  private dispatch(msg: Message): void {
    const parent = msg.parent_header.msg_id ?? "";
    const type = msg.header.msg_type;
    if (msg.channel === "iopub") this.heard.get(parent)?.();
    if (msg.channel === "iopub" && type === "status") {
      const state = msg.content.execution_state;
      // During a restart the old kernel's last busy/idle are not the new kernel's state.
      if (this.restarting && (state === "busy" || state === "idle")) {
        // the restart reports "ready" itself
      } else if (state === "busy" && this.status !== "busy") this.setStatus("busy", "running");
      else if (state === "idle" && this.status === "busy") this.setStatus("idle", "idle");
      else if (state === "restarting") {
        this.setStatus("restarting", "the kernel is restarting");
        // Not our restart: the kernel died (it crashed, or hit a limit of the server) and the
        // server starts it again, without what the running cells were doing.
        if (!this.restarting) {
          this.executions.failAll(new Error("the kernel stopped (it crashed or reached a limit of the server) and was restarted: its variables are lost"));
          void this.waitReady().catch(() => this.died("the kernel did not come back after a restart"));
        }
      }
      else if (state === "dead") this.died("the kernel died");
    }
    if (msg.channel === "iopub" && type === "shutdown_reply" && !msg.content.restart) {
      setTimeout(() => void this.checkAlive(), 500); // shut down by someone else?
    }
    if (msg.channel === "iopub" && type === "update_display_data") {
      this.displayUpdate(msg); // not one of its execution's outputs: shown where the display is
      return;
    }
    const reply = this.replies.get(parent);
    if (reply && (msg.channel === "shell" || msg.channel === "control") && type.endsWith("_reply")) {
      reply(msg);
      return;
    }
    const callbacks = this.executions.callbacks(parent);
    if (!callbacks || !this.executions.receive(msg)) return;
    if (msg.channel === "stdin" && type === "input_request") void this.answer(msg, callbacks);
  }

  private async answer(request: Message, callbacks: ExecuteCallbacks): Promise<void> {
    const prompt = String(request.content.prompt ?? "");
    const password = Boolean(request.content.password);
    const value = callbacks.onInput ? await callbacks.onInput(prompt, password) : "";
    this.send(newMessage("stdin", "input_reply", { value }, this.session, request.header as Header));
  }

  sendComm(type: CommMessageType, content: JSONObject, metadata: JSONObject = {}, buffers: ArrayBuffer[] = []): string {
    const msg = newMessage("shell", type, content, this.session);
    msg.metadata = metadata;
    // The JSON framing carries no buffers: a message with some needs the v1 framing.
    if (buffers.length && !this.binary) throw new Error("this server's kernel connection cannot carry binary buffers (it lacks the v1 WebSocket protocol)");
    msg.buffers = buffers;
    this.send(msg);
    return msg.header.msg_id;
  }

  // -- the contract -------------------------------------------------------------------------

  async help(type: HelpRequest, content: JSONObject): Promise<JSONObject> {
    return (await this.request("shell", type, content, HELP_TIMEOUT)).content;
  }

  execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply> {
    const msg = executeRequest(code, callbacks, this.session);
    const done = this.executions.add(msg.header.msg_id, callbacks);
    try {
      this.send(msg);
    } catch (error) {
      this.executions.cancel(msg.header.msg_id, error as Error);
    }
    return done;
  }

  async interrupt(): Promise<void> {
    if (this.kernelId) await this.api("POST", `api/kernels/${this.kernelId}/interrupt`);
  }

  async restart(): Promise<void> {
    if (!this.kernelId) return;
    if (this.restarting) return this.restarting;
    this.setStatus("restarting", "restarting the kernel");
    this.executions.failAll(new Error("the kernel was restarted while this cell was running"));
    const kernelId = this.kernelId;
    this.restarting = (async () => {
      let response: Response | null = null;
      try {
        response = await this.api("POST", `api/kernels/${kernelId}/restart`);
      } catch {
        // a gone kernel's 404 without CORS headers, or the server is down: told apart below
      }
      if (!response?.ok) {
        const exists = await this.exists(kernelId);
        if (exists === false) return this.died(GONE);
        const reason = exists === null
          ? `cannot reach the Jupyter server at ${this.url("")} to restart the kernel: is it still running?`
          : "the server could not restart the kernel";
        this.setStatus("error", reason);
        throw new Error(reason);
      }
      await this.waitReady();
    })();
    try {
      await this.restarting;
    } finally {
      this.restarting = null;
    }
  }

  async shutdown(): Promise<void> {
    // jupyter_client cannot shut a kernel down halfway through its restart.
    await this.restarting?.catch(() => undefined);
    this.closing = true;
    removeEventListener("pagehide", this.onPageHide);
    if (this.liveness) clearInterval(this.liveness);
    this.executions.failAll(new Error("the kernel was shut down"));
    this.options.sessions.forget(this.scope);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    if (this.kernelId) await this.api("DELETE", `api/kernels/${this.kernelId}`).catch(() => undefined);
    this.kernelId = null;
    this.setStatus("dead", "kernel shut down");
  }
}

const GONE = "the kernel is gone (the server no longer has it: shut down, culled or restarted): press Start again for a new one";

function refusedToken(server: string): string {
  return `the Jupyter server at ${server} refused the token: check it (\`jupyter server list\` shows the running servers' tokens)`;
}

function needsToken(server: string): string {
  return `the Jupyter server at ${server} needs a token: enter it (\`jupyter server list\` shows the running servers' tokens)`;
}

/**
 * Why a request to a Jupyter Server failed without an answer the page may read. A browser
 * hides the reason (server down, CORS refused, token refused without CORS headers) behind one
 * opaque error; two probes tell them apart: the unauthenticated version endpoint `api` read
 * with CORS (it answers: the origin is allowed, so the token was refused), then without CORS
 * (an opaque answer: the server is up but does not allow this origin).
 */
export async function explainFailure(baseUrl: string, token: string | null): Promise<string> {
  const server = new URL(baseUrl, location.href);
  const api = new URL("api", server).href;
  const flag = `--ServerApp.allow_origin=${location.origin}`;
  if (location.protocol === "https:" && server.protocol === "http:" && !isLoopback(server.hostname)) {
    return `this page is served over HTTPS and the browser blocks the http:// server at ${server.href}: serve Jupyter over HTTPS`;
  }
  const readable = await fetch(api, { credentials: "omit" }).then(
    (probe) => probe.ok,
    () => false,
  );
  if (readable) {
    // jupyter_server refuses a request without a token before it adds its CORS headers.
    return token ? refusedToken(server.href) : needsToken(server.href);
  }
  const up = await fetch(api, { mode: "no-cors", credentials: "omit" }).then(
    () => true,
    () => false,
  );
  if (up) {
    return `the Jupyter server at ${server.href} does not allow pages from ${location.origin}: start it with ${flag} (or set c.ServerApp.allow_origin in jupyter_server_config.py)`;
  }
  return `cannot reach the Jupyter server at ${server.href}: is it running? If it is, start it with ${flag}`;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

export interface Kernelspec {
  name: string;
  displayName: string;
  language: string;
}

/** "Test connection": the server's kernelspecs (default first), or an error that says what to
 * change. */
export async function listKernelspecs(baseUrl: string, token: string | null): Promise<Kernelspec[]> {
  let url: URL;
  const notHttp = `not a server URL: ${baseUrl}: it must start with http:// or https://, as http://127.0.0.1:8888/`;
  if (!/^https?:\/\//i.test(baseUrl)) throw new Error(notHttp);
  try {
    url = new URL("api/kernelspecs", new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`));
  } catch {
    throw new Error(notHttp);
  }
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `token ${token}`;
  let response: Response;
  try {
    response = await fetch(url.href, { headers, credentials: "omit" });
  } catch {
    throw new Error(await explainFailure(url.href.replace(/api\/kernelspecs$/, ""), token));
  }
  if (response.status === 401 || response.status === 403) {
    const server = new URL("..", url).href;
    throw new Error(token ? refusedToken(server) : needsToken(server));
  }
  if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}: is this a Jupyter Server?`);
  const body = (await response.json().catch(() => null)) as {
    default?: string;
    kernelspecs?: Record<string, { name: string; spec?: { display_name?: string; language?: string } }>;
  } | null;
  if (!body?.kernelspecs) throw new Error("the answer has no kernelspecs: is this a Jupyter Server?");
  const specs = Object.values(body.kernelspecs).map((item) => ({
    name: item.name,
    displayName: item.spec?.display_name ?? item.name,
    language: item.spec?.language ?? "",
  }));
  return specs.sort((a, b) => Number(b.name === body.default) - Number(a.name === body.default) || a.name.localeCompare(b.name));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
