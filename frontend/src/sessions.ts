// Saved sessions: the kernel a page used, remembered in localStorage so a reload re-attaches
// to it (MyST keeps them 86400 s too). Kernels are kept per page, as MyST gives each notebook
// its own; a launched Binder server is shared by the site's pages that build the same spec.

export interface SavedSession {
  kernelId: string;
  kernelName: string;
  savedAt: number;
}

const PREFIX = "livecells:session:";

export class Sessions {
  /** `page` tells the pages of one site apart (its path; the origin is localStorage's own). */
  constructor(readonly enabled: boolean, private maxAge: number, private page: string = location.pathname) {}

  private key(scope: string): string {
    return `${PREFIX}page:${this.page}|${scope}`;
  }

  private serverKey(scope: string): string {
    return `${PREFIX}server:${scope}`;
  }

  load(scope: string): SavedSession | null {
    if (!this.enabled) return null;
    this.prune();
    try {
      const raw = localStorage.getItem(this.key(scope));
      if (!raw) return null;
      const saved = JSON.parse(raw) as SavedSession;
      if (typeof saved.kernelId !== "string") return null;
      return saved;
    } catch {
      return null;
    }
  }

  save(scope: string, kernelId: string, kernelName: string): void {
    if (!this.enabled) return;
    const entry: SavedSession = { kernelId, kernelName, savedAt: Date.now() };
    try {
      localStorage.setItem(this.key(scope), JSON.stringify(entry));
    } catch {
      // storage full or disabled: the session is simply not remembered
    }
  }

  forget(scope: string): void {
    remove(this.key(scope));
  }

  /** A launched server (Binder) remembered for reuse while it lives: {url, token}. */
  loadServer(scope: string): { url: string; token: string | null } | null {
    if (!this.enabled) return null;
    this.prune();
    try {
      const saved = JSON.parse(localStorage.getItem(this.serverKey(scope)) || "null") as { url?: unknown; token?: unknown } | null;
      if (!saved || typeof saved.url !== "string") return null;
      return { url: saved.url, token: typeof saved.token === "string" ? saved.token : null };
    } catch {
      return null;
    }
  }

  saveServer(scope: string, url: string, token: string | null): void {
    if (!this.enabled) return;
    try {
      localStorage.setItem(this.serverKey(scope), JSON.stringify({ url, token, savedAt: Date.now() }));
    } catch {
      // not remembered
    }
  }

  forgetServer(scope: string): void {
    remove(this.serverKey(scope));
  }

  /** Drop saved sessions older than maxAge. */
  prune(): void {
    try {
      const now = Date.now();
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (!key || !key.startsWith(PREFIX)) continue;
        const saved = JSON.parse(localStorage.getItem(key) || "{}") as Partial<SavedSession>;
        if (!saved.savedAt || now - saved.savedAt > this.maxAge * 1000) localStorage.removeItem(key);
      }
    } catch {
      // unreadable storage: nothing to prune
    }
  }
}

function remove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // nothing to forget
  }
}
