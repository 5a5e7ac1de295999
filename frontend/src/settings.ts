// The runtime settings dialog: the runtimes this page allows, a Jupyter Server's URL and
// token (with "Test connection", which lists the server's kernelspecs), a Binder repository.
// Switching hands the reader's choice back; the page keeps its cells as they are.

import type { PageConfig } from "./config";
import { button, h } from "./dom";
import { type Choice, runtimeLabel } from "./runtimes/factory";
import { type Kernelspec, listKernelspecs } from "./runtimes/jupyter";
import type { RuntimeName } from "./runtimes/runtime";

const SAVED = "livecells:choice";

/** The reader's last choice of runtime (and their own server), for every page of the site;
 * Binder repositories and kernels stay per page, where the author set them. */
export function savedChoice(config: PageConfig): Choice | null {
  if (!config.sessionSaving || !config.runtime) return null;
  try {
    const saved = JSON.parse(localStorage.getItem(SAVED) || "null") as Partial<Choice> | null;
    if (!saved?.runtime || !config.runtimes.includes(saved.runtime) || saved.runtime === config.runtime) return null;
    const server = saved.runtime === "server" && config.allowReaderServer ? (saved.server ?? null) : config.server;
    if (saved.runtime === "server" && !server?.url) return null;
    if (saved.runtime === "binder" && !config.binder?.repo) return null;
    return {
      runtime: saved.runtime,
      kernelName: config.kernelName,
      server,
      binder: config.binder,
    };
  } catch {
    return null;
  }
}

function saveChoice(config: PageConfig, choice: Choice): void {
  if (!config.sessionSaving) return;
  try {
    localStorage.setItem(SAVED, JSON.stringify({ runtime: choice.runtime, server: choice.runtime === "server" ? choice.server : null }));
  } catch {
    // not remembered
  }
}

export class SettingsDialog {
  readonly element: HTMLDialogElement;
  private radios = new Map<RuntimeName, HTMLInputElement>();
  private serverFields: HTMLElement;
  private binderFields: HTMLElement;
  private url: HTMLInputElement;
  private token: HTMLInputElement;
  private kernel: HTMLSelectElement;
  private result: HTMLElement;
  private repo: HTMLInputElement;
  private ref: HTMLInputElement;
  private hub: HTMLInputElement;
  private error: HTMLElement;
  private switchButton: HTMLButtonElement;
  private current: Choice | null = null;

  constructor(private config: PageConfig, private onSwitch: (choice: Choice) => void) {
    const list = h("fieldset", { className: "lc-runtimes" }, h("legend", {}, "Run this page's code on"));
    for (const name of config.runtimes) {
      const radio = h("input", { type: "radio", name: "lc-runtime", value: name });
      radio.addEventListener("change", () => this.showFields());
      this.radios.set(name, radio);
      list.append(h("label", { className: "lc-runtime-option" }, radio, ` ${runtimeLabel(name, config)}`));
    }
    this.url = h("input", { type: "url", className: "lc-server-url", placeholder: "http://localhost:8888/", spellcheck: false });
    this.token = h("input", { type: "password", className: "lc-server-token", autocomplete: "off", placeholder: "token" });
    this.kernel = h("select", { className: "lc-kernel", "aria-label": "Kernel" });
    this.result = h("p", { className: "lc-test-result", role: "status", "aria-live": "polite" });
    const test = button("lc-test", "Test connection", "Test the connection to this server", () => void this.test());
    this.serverFields = h(
      "div",
      { className: "lc-fields lc-server-fields" },
      h("label", {}, "Server URL ", this.url),
      h("label", {}, "Token ", this.token),
      h("div", { className: "lc-test-row" }, test, h("label", {}, "Kernel ", this.kernel)),
      this.result,
    );
    this.repo = h("input", { type: "text", className: "lc-binder-repo", placeholder: "owner/name or a URL", spellcheck: false });
    this.ref = h("input", { type: "text", className: "lc-binder-ref", placeholder: "HEAD", spellcheck: false });
    this.hub = h("input", { type: "url", className: "lc-binder-url", spellcheck: false });
    // Only the configured server and BinderHub, unless the author lets readers name their own.
    this.url.readOnly = this.hub.readOnly = !config.allowReaderServer;
    this.binderFields = h(
      "div",
      { className: "lc-fields lc-binder-fields" },
      h("label", {}, "Repository ", this.repo),
      h("label", {}, "Branch, tag or commit ", this.ref),
      h("label", {}, "BinderHub ", this.hub),
    );
    this.error = h("p", { className: "lc-settings-error", role: "alert" });
    this.switchButton = button("lc-switch", "Switch", "Switch to this runtime", () => void this.submit());
    const cancel = button("lc-cancel", "Cancel", "Close without switching", () => this.element.close());
    this.element = h(
      "dialog",
      { className: "lc-dialog lc-settings", "aria-label": "Runtime settings" },
      h("h2", {}, "Runtime"),
      list,
      this.serverFields,
      this.binderFields,
      this.error,
      h("div", { className: "lc-dialog-buttons" }, cancel, this.switchButton),
    );
  }

  open(current: Choice): void {
    this.current = current;
    const radio = this.radios.get(current.runtime);
    if (radio) radio.checked = true;
    const server = current.server ?? this.config.server;
    this.url.value = server?.url ?? "";
    this.token.value = server?.token ?? "";
    this.setKernels([], current.kernelName);
    const binder = current.binder ?? this.config.binder;
    this.repo.value = binder?.repo ?? "";
    this.ref.value = binder?.ref ?? "";
    this.hub.value = binder?.url ?? "https://mybinder.org/";
    this.result.textContent = "";
    this.error.textContent = "";
    this.showFields();
    if (!this.element.isConnected) document.body.append(this.element);
    this.element.showModal();
  }

  private get selected(): RuntimeName | null {
    for (const [name, radio] of this.radios) if (radio.checked) return name;
    return null;
  }

  private showFields(): void {
    this.serverFields.hidden = this.selected !== "server";
    this.binderFields.hidden = this.selected !== "binder";
    this.error.textContent = "";
  }

  private setKernels(specs: Kernelspec[], wanted: string): void {
    this.kernel.replaceChildren();
    this.kernel.disabled = false;
    const names = specs.length ? specs : [{ name: wanted, displayName: wanted, language: "" }];
    for (const spec of names) {
      const option = h("option", { value: spec.name }, spec.displayName === spec.name ? spec.name : `${spec.displayName} (${spec.name})`);
      this.kernel.append(option);
    }
    // The page's kernel when the server has it, else the server's default.
    this.kernel.value = names.some((spec) => spec.name === wanted) ? wanted : names[0].name;
  }

  /** Check the server's URL and token; on success list its kernelspecs. */
  private async test(): Promise<boolean> {
    const url = this.url.value.trim();
    if (!url) {
      this.result.textContent = "Enter the server's URL first.";
      return false;
    }
    this.result.dataset.state = "testing";
    this.result.textContent = `Connecting to ${url}…`;
    try {
      const specs = await listKernelspecs(url, this.token.value.trim() || null);
      this.setKernels(specs, this.current?.kernelName ?? this.config.kernelName);
      this.result.dataset.state = "ok";
      this.result.textContent = `Connected: ${specs.length} kernel${specs.length === 1 ? "" : "s"} found: ${specs.map((spec) => spec.name).join(", ")}`;
      return true;
    } catch (error) {
      // What the server offered is no longer known.
      this.kernel.replaceChildren();
      this.kernel.disabled = true;
      this.result.dataset.state = "failed";
      this.result.textContent = (error as Error).message;
      return false;
    }
  }

  private async submit(): Promise<void> {
    const runtime = this.selected;
    if (!runtime || !this.current) return;
    const choice: Choice = { ...this.current, runtime, kernelName: this.config.kernelName };
    if (runtime === "server") {
      // A server is tested before the page moves to it.
      this.switchButton.disabled = true;
      const ok = await this.test();
      this.switchButton.disabled = false;
      if (!ok) {
        this.error.textContent = "Not switched: the server did not answer as it should (see above).";
        return;
      }
      choice.server = { url: this.url.value.trim(), token: this.token.value.trim() || null };
      choice.kernelName = this.kernel.value;
    } else if (runtime === "binder") {
      const repo = this.repo.value.trim();
      if (!repo) {
        this.error.textContent = "Enter the repository Binder should build.";
        return;
      }
      choice.binder = {
        repo,
        ref: this.ref.value.trim() || null,
        url: this.hub.value.trim() || "https://mybinder.org/",
        provider: this.config.binder?.provider ?? "github",
      };
    }
    this.element.close();
    saveChoice(this.config, choice);
    this.onSwitch(choice);
  }
}
