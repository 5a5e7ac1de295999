// The cell editor: CodeMirror 6, loaded the first time a reader edits a cell. Completion (Tab
// after a name, Ctrl-Space) and documentation (Shift-Tab, hover) come from the kernel (help.ts).

import { acceptCompletion, autocompletion, type CompletionContext, type CompletionResult, completionKeymap, completionStatus, startCompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { EditorView, hoverTooltip, keymap, lineNumbers, showTooltip, type Tooltip } from "@codemirror/view";
import { type EditorHelp, wantsCompletion } from "./help";
import { cellHighlighter } from "./highlight";

// With the editor, not before: the first paint does not need it.
export { kernelHelp } from "./help";

export interface Editor {
  getSource(): string;
  focus(): void;
}

/** Replace `pre` with an editor holding its text; `run` is called on Shift+Enter. */
export function createEditor(pre: HTMLElement, language: string, run: () => void, help?: EditorHelp): Editor {
  const extensions = [
    lineNumbers(),
    history(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(cellHighlighter),
    ...(help ? helpExtensions(help) : []),
    keymap.of([
      { key: "Shift-Enter", run: () => (run(), true) },
      indentWithTab,
      ...defaultKeymap,
      ...historyKeymap,
    ]),
    EditorView.contentAttributes.of({ "aria-label": "Cell source (Shift+Enter runs it)" }),
    // Not classList: CodeMirror rewrites its root's class attribute on updates.
    EditorView.editorAttributes.of({ class: "lc-editor" }),
  ];
  if (language === "python") extensions.push(python());
  const view = new EditorView({
    state: EditorState.create({ doc: pre.textContent ?? "", extensions }),
  });
  pre.replaceWith(view.dom);
  return {
    getSource: () => view.state.doc.toString(),
    focus: () => view.focus(),
  };
}

const setDoc = StateEffect.define<Tooltip | null>();

/** The Shift-Tab documentation tooltip: gone with the next edit or cursor move. */
const docField = StateField.define<Tooltip | null>({
  create: () => null,
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setDoc)) return effect.value;
    return tr.docChanged || tr.selection ? null : value;
  },
  provide: (field) => showTooltip.from(field),
});

function docTooltip(pos: number, text: string, end?: number): Tooltip {
  return {
    pos,
    end,
    above: true,
    create: () => {
      const dom = document.createElement("pre");
      dom.className = "lc-help";
      dom.textContent = text;
      return { dom };
    },
  };
}

function lineBefore(view: EditorView): string {
  const head = view.state.selection.main.head;
  const line = view.state.doc.lineAt(head);
  return line.text.slice(0, head - line.from);
}

function helpExtensions(help: EditorHelp) {
  const source = async (context: CompletionContext): Promise<CompletionResult | null> => {
    const found = await help.complete(context.state.doc.toString(), context.pos);
    if (!found || context.aborted) return null;
    return { from: found.from, to: found.to, options: found.labels.map((label) => ({ label })), validFor: /^\w*$/ };
  };
  const showDoc = (view: EditorView): boolean => {
    if (!wantsCompletion(lineBefore(view))) return false;
    const head = view.state.selection.main.head;
    void help.inspect(view.state.doc.toString(), head).then((text) => {
      if (text && view.state.selection.main.head === head) view.dispatch({ effects: setDoc.of(docTooltip(head, text)) });
    });
    return true;
  };
  return [
    autocompletion({ override: [source], activateOnTyping: false, defaultKeymap: false, interactionDelay: 0 }),
    docField,
    hoverTooltip(
      async (view, pos) => {
        const word = view.state.wordAt(pos);
        if (!word) return null;
        const text = await help.inspect(view.state.doc.toString(), word.to);
        return text ? docTooltip(word.from, text, word.to) : null;
      },
      { hoverTime: 400 },
    ),
    keymap.of([
      // While completions are listed (or on their way), Tab never indents.
      { key: "Tab", run: (view) => (completionStatus(view.state) ? acceptCompletion(view) || true : wantsCompletion(lineBefore(view)) && startCompletion(view)) },
      { key: "Shift-Tab", run: showDoc },
      { key: "Escape", run: (view) => (view.state.field(docField) ? (view.dispatch({ effects: setDoc.of(null) }), true) : false) },
      ...completionKeymap,
    ]),
  ];
}
