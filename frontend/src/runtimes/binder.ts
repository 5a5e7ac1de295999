// The Binder runtime: a BinderHub builds (or reuses) the repository's environment and launches
// a Jupyter Server; the kernel then runs there through a JupyterRuntime. The build's event
// stream (phases and log lines) is shown live; the launched server is remembered (unless
// session saving is off) and reused on reload while it lives.

import type { JSONObject } from "../protocol";
import type { Sessions } from "../sessions";
import { BaseRuntime } from "./base";
import { JupyterRuntime } from "./jupyter";
import type { CommMessageType, ExecuteCallbacks, ExecuteReply, HelpRequest } from "./runtime";

export interface BinderOptions {
  repo: string;
  ref: string | null;
  /** The BinderHub (default mybinder.org). */
  url: string;
  provider: string;
  kernelName: string;
  sessions: Sessions;
  /** Each build log line, for a log box. */
  onLog?: (line: string) => void;
}

/** The `{provider}/{spec}` of a build URL, as BinderHub's launch form makes it. */
export function buildSpec(repo: string, ref: string | null, provider: string): string {
  const at = encodeURIComponent(ref || "HEAD");
  if (provider === "github") {
    const match = /^(?:https?:\/\/github\.com\/)?([^/\s]+\/[^/\s]+?)(?:\.git)?\/?$/.exec(repo);
    if (!match) throw new Error(`not a GitHub repository: ${repo} (expected owner/name or a URL)`);
    return `github/${match[1]}/${at}`;
  }
  if (provider === "gitlab") {
    const path = repo.replace(/^https?:\/\/gitlab\.com\//, "").replace(/\.git$/, "").replace(/^\/+|\/+$/g, "");
    return `gitlab/${encodeURIComponent(path)}/${at}`;
  }
  if (provider === "git") return `git/${encodeURIComponent(repo)}/${at}`;
  return `${provider}/${repo}`;
}

export class BinderRuntime extends BaseRuntime {
  readonly name = "binder";
  private inner: JupyterRuntime | null = null;
  /** The launched server, once ready: for "open in Jupyter". */
  server: { url: string; token: string | null } | null = null;

  constructor(private options: BinderOptions) {
    super();
  }

  get jupyterUrl(): string | null {
    return this.inner?.jupyterUrl ?? null;
  }

  get id(): string | null {
    return this.inner?.id ?? null;
  }

  private get spec(): string {
    return buildSpec(this.options.repo, this.options.ref, this.options.provider);
  }

  async start(): Promise<void> {
    if (this.inner) return this.inner.start();
    let spec: string;
    try {
      spec = this.spec;
    } catch (error) {
      this.setStatus("error", (error as Error).message);
      throw error;
    }
    const saved = this.options.sessions.loadServer(spec);
    if (saved) {
      this.setStatus("connecting", "reusing the Binder server of this page");
      try {
        await this.connect(saved);
        return;
      } catch {
        this.options.sessions.forgetServer(spec);
        this.inner = null; // gone (culled): build again
      }
    }
    const server = await this.build(spec);
    this.options.sessions.saveServer(spec, server.url, server.token);
    await this.connect(server);
  }

  private build(spec: string): Promise<{ url: string; token: string | null }> {
    const hub = this.options.url.endsWith("/") ? this.options.url : `${this.options.url}/`;
    this.setStatus("connecting", `asking the BinderHub at ${hub}`);
    return new Promise((resolve, reject) => {
      const source = new EventSource(`${hub}build/${spec}`);
      const fail = (detail: string) => {
        source.close();
        this.setStatus("error", detail);
        reject(new Error(detail));
      };
      source.onmessage = (event: MessageEvent<string>) => {
        let data: { phase?: string; message?: string; url?: string; token?: string };
        try {
          data = JSON.parse(event.data) as typeof data;
        } catch {
          return;
        }
        const phase = data.phase ?? "";
        const message = (data.message ?? "").trim();
        if (message) this.options.onLog?.(`[${phase}] ${message}`);
        if (phase === "failed") return fail(`Binder could not build ${spec}: ${message}`);
        this.setStatus("starting", message ? `Binder ${phase}: ${message}` : `Binder ${phase}`);
        if (phase === "ready") {
          source.close();
          if (!data.url) return fail("the BinderHub said ready but gave no server URL");
          resolve({ url: data.url, token: data.token ?? null });
        }
      };
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED || this.status === "connecting") {
          fail(`cannot reach the BinderHub at ${hub} (or it refused this page's origin)`);
        }
      };
    });
  }

  sendComm(type: CommMessageType, content: JSONObject, metadata: JSONObject = {}, buffers: ArrayBuffer[] = []): string {
    if (!this.inner) throw new Error("the Binder server is not running: press Start");
    return this.inner.sendComm(type, content, metadata, buffers);
  }

  private async connect(server: { url: string; token: string | null }): Promise<void> {
    const inner = new JupyterRuntime({
      name: "server",
      baseUrl: server.url,
      token: server.token,
      kernelName: this.options.kernelName,
      path: null,
      sessions: this.options.sessions,
    });
    // The kernel's status and display updates are this runtime's.
    inner.onStatus((status, detail) => this.setStatus(status, detail));
    inner.onDisplayUpdate((msg) => this.displayUpdate(msg));
    inner.onMessage((msg) => this.offer(msg));
    this.inner = inner;
    await inner.start();
    this.server = server;
  }

  help(type: HelpRequest, content: JSONObject): Promise<JSONObject> {
    if (!this.inner) return Promise.reject(new Error("the Binder server is not running"));
    return this.inner.help(type, content);
  }

  execute(code: string, callbacks: ExecuteCallbacks): Promise<ExecuteReply> {
    if (!this.inner) return Promise.reject(new Error("the Binder server is not running: press Start"));
    return this.inner.execute(code, callbacks);
  }

  async interrupt(): Promise<void> {
    await this.inner?.interrupt();
  }

  async restart(): Promise<void> {
    await this.inner?.restart();
  }

  async shutdown(): Promise<void> {
    await this.inner?.shutdown();
    this.inner = null;
    this.setStatus("dead", "kernel shut down");
  }
}
