// The code cells of a page: a toolbar (run button, execution count), the source (a static
// <pre> until the reader edits it, then CodeMirror), the outputs, and one queue per page so
// cells run strictly in order.

import { chunkProblemText } from "./chunks";
import { button } from "./dom";
import type { Editor } from "./editor";
import { OutputArea, type RenderOptions } from "./outputs";
import type { Runtime } from "./runtimes/runtime";

export class Cell {
  readonly outputs: OutputArea;
  private editor: Editor | null = null;
  private editorLoading: Promise<Editor> | null = null;
  private count: HTMLElement;
  private runButton: HTMLButtonElement;

  constructor(readonly element: HTMLElement, private queue: Queue, options: RenderOptions) {
    const outputs = element.querySelector<HTMLElement>(".lc-outputs") ?? element.appendChild(document.createElement("div"));
    outputs.classList.add("lc-outputs");
    outputs.setAttribute("aria-live", "polite");
    this.outputs = new OutputArea(outputs, options);

    const toolbar = document.createElement("div");
    toolbar.className = "lc-toolbar";
    this.runButton = button("lc-run", "▶", "Run cell", () => this.queue.run(this));
    this.count = document.createElement("span");
    this.count.className = "lc-count";
    const stored = outputs.dataset.executionCount;
    this.count.textContent = stored ? `[${stored}]:` : "[ ]:";
    toolbar.append(this.runButton, this.count);
    element.prepend(toolbar);

    const source = this.sourceElement();
    if (source) {
      source.tabIndex = 0;
      source.setAttribute("role", "textbox");
      source.setAttribute("aria-label", "Cell source: press Enter to edit, Shift+Enter to run");
      source.addEventListener("click", () => void this.edit());
      source.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.shiftKey) {
          event.preventDefault();
          this.queue.run(this);
        } else if (event.key === "Enter") {
          event.preventDefault();
          void this.edit();
        }
      });
    }
  }

  private sourceElement(): HTMLElement | null {
    return this.element.querySelector<HTMLElement>("pre.lc-source");
  }

  get tags(): string[] {
    return (this.element.dataset.tags || "").split(/\s+/).filter(Boolean);
  }

  get language(): string {
    return this.element.dataset.language || "python";
  }

  get source(): string {
    return this.editor ? this.editor.getSource() : (this.sourceElement()?.textContent ?? "");
  }

  setEnabled(enabled: boolean): void {
    this.runButton.disabled = !enabled;
  }

  setCount(text: string): void {
    this.count.textContent = text;
  }

  /** First run: the static fallback outputs give way to live ones. */
  begin(): void {
    this.outputs.clear();
    this.setCount("[*]:");
  }

  async edit(): Promise<void> {
    if (this.editor) return this.editor.focus();
    const source = this.sourceElement();
    if (!source) return;
    if (!this.editorLoading) {
      this.editorLoading = import("./editor").then(({ createEditor, kernelHelp }) => {
        const current = this.sourceElement();
        if (!current) throw new Error("cell source vanished");
        return createEditor(current, this.language, () => this.queue.run(this), kernelHelp(() => this.queue.runtime));
      });
    }
    try {
      this.editor = await this.editorLoading;
    } catch (error) {
      this.editorLoading = null;
      this.outputs.problem(chunkProblemText("the editor", error));
      return;
    }
    this.editor.focus();
  }
}

export class Queue {
  private items: Cell[] = [];
  private running = false;
  runtime: Runtime | null = null;

  constructor(private onInput: (cell: Cell, prompt: string, password: boolean) => Promise<string>) {}

  /** Queue a cell; cells run one after another in the order they were queued. */
  run(cell: Cell): void {
    if (!this.runtime || this.items.includes(cell)) return;
    this.items.push(cell);
    cell.setCount("[*]:");
    void this.drain();
  }

  /** Forget the cells still waiting (after an error, an interrupt or a restart). */
  drop(): void {
    const dropped = this.running ? this.items.splice(1) : this.items.splice(0);
    for (const cell of dropped) cell.setCount("[ ]:");
  }

  get idle(): boolean {
    return !this.running && this.items.length === 0;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.items.length && this.runtime) {
        const ok = await this.execute(this.runtime, this.items[0]);
        this.items.shift();
        if (!ok) for (const cell of this.items.splice(0)) cell.setCount("[ ]:");
      }
    } finally {
      this.running = false;
    }
  }

  private async execute(runtime: Runtime, cell: Cell): Promise<boolean> {
    cell.begin();
    try {
      const expectsError = cell.tags.includes("raises-exception");
      const reply = await runtime.execute(cell.source, {
        onIOPub: (msg) => cell.outputs.handle(msg),
        onInput: (prompt, password) => this.onInput(cell, prompt, password),
        stopOnError: !expectsError,
      });
      cell.setCount(reply.executionCount === null ? "[ ]:" : `[${reply.executionCount}]:`);
      return reply.status === "ok" || (expectsError && reply.status === "error");
    } catch (error) {
      cell.setCount("[!]:");
      cell.outputs.problem((error as Error).message);
      return false;
    }
  }
}
