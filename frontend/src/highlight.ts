// The editor's highlighting: CodeMirror tags -> the `tok-*` classes livecells.highlight gives
// Pygments tokens when a page is rendered, so a cell looks the same before and after its editor
// loads (livecells.css colours the classes, for light and dark pages alike).

import { tagHighlighter, tags } from "@lezer/highlight";

export const cellHighlighter = tagHighlighter([
  { tag: [tags.bool, tags.null, tags.atom], class: "tok-bool" },
  { tag: tags.keyword, class: "tok-keyword" },
  { tag: tags.operator, class: "tok-operator" },
  { tag: tags.definition(tags.variableName), class: "tok-variableName tok-definition" },
  { tag: tags.definition(tags.className), class: "tok-className tok-definition" },
  { tag: tags.meta, class: "tok-meta" },
  { tag: [tags.escape, tags.special(tags.string)], class: "tok-string2" },
  { tag: tags.string, class: "tok-string" },
  { tag: tags.number, class: "tok-number" },
  { tag: tags.literal, class: "tok-literal" },
  { tag: tags.comment, class: "tok-comment" },
]);
