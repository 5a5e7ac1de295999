// The cell editor: CodeMirror 6, loaded the first time a reader edits a cell.

import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { cellHighlighter } from "./highlight";

export interface Editor {
  getSource(): string;
  focus(): void;
}

/** Replace `pre` with an editor holding its text; `run` is called on Shift+Enter. */
export function createEditor(pre: HTMLElement, language: string, run: () => void): Editor {
  const extensions = [
    lineNumbers(),
    history(),
    indentOnInput(),
    bracketMatching(),
    syntaxHighlighting(cellHighlighter),
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
