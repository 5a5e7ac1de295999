"""myst-nb's ``glue``: a notebook's outputs pasted into its text by name.

A cell runs ``myst_nb.glue("name", value)``; the output it stores carries
``metadata.scrapbook.name``. The text then shows it with the ``{glue}`` roles (``{glue}``,
``{glue:any}``, ``{glue:text}`` with an optional format spec, ``{glue:md}``, ``{glue:math}``) and
directives (the same, and ``{glue:figure}`` with a caption). mystmd does not know them (it warns
and keeps them as unknown roles and directives), so the renderer asks :class:`Glue` for them.
As in myst-nb, a glued output is shown where the text pastes it, not under its cell.
"""

from __future__ import annotations

import ast
import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GLUE_NAMES", "Glue", "glued_name"]

GLUE_NAMES = frozenset(
    {"glue", "glue:", "glue:any", "glue:text", "glue:md", "glue:math", "glue:figure"}
)
_ONLY = {"glue:md": "text/markdown", "glue:math": "text/latex"}


def glued_name(output: Mapping[str, Any]) -> str | None:
    """The name an output was glued under, or ``None``."""
    metadata = output.get("metadata")
    scrapbook = metadata.get("scrapbook") if isinstance(metadata, Mapping) else None
    name = scrapbook.get("name") if isinstance(scrapbook, Mapping) else None
    return name if isinstance(name, str) else None


@dataclass(frozen=True)
class Glue:
    """The outputs a page glued, by name, and how one output becomes (sanitised) HTML."""

    outputs: Mapping[str, Mapping[str, Any]]
    show: Callable[[Mapping[str, Any]], str]
    figures: frozenset[str] = frozenset()
    """The ``:name:`` of the page's ``{glue:figure}`` directives: targets of its references."""

    @classmethod
    def of(
        cls,
        outputs: Iterable[Mapping[str, Any]],
        show: Callable[[Mapping[str, Any]], str],
        *,
        mdast: Mapping[str, Any],
    ) -> Glue:
        found = {}
        for output in outputs:
            name = glued_name(output)
            if name is not None:
                found[name] = _unprefixed(output)
        figures, todo = set(), [mdast]
        while todo:
            node = todo.pop()
            if node.get("type") == "mystDirective" and node.get("name") == "glue:figure":
                figures.add(_options(str(node.get("value", "")))[0].get("name", ""))
            todo += [c for c in node.get("children", ()) if isinstance(c, Mapping)]
        return cls(found, show, frozenset(figures - {""}))

    def role(self, name: str, value: str) -> str | None:
        """Inline HTML for ``{name}`value```, or ``None`` when nothing was glued so."""
        key, spec = value.strip(), ""
        if name == "glue:text" and ":" in key:
            key, spec = key.split(":", 1)
        output = self.outputs.get(key)
        if output is None:
            return None
        data = output.get("data")
        data = data if isinstance(data, Mapping) else {}
        if name == "glue:text" or set(data) <= {"text/plain"}:
            return html.escape(_formatted(_plain(data), spec))
        return f'<span class="lc-glue">{self.show(_restricted(output, name))}</span>'

    def directive(self, name: str, args: str, body: str) -> str | None:
        """Block HTML for a ``{name}`` directive naming ``args``, or ``None``."""
        output = self.outputs.get(args.strip())
        if output is None:
            return None
        options, caption = _options(body)
        shown = self.show(_restricted(output, name))
        if name != "glue:figure":
            return f'<div class="lc-glue">{shown}</div>\n'
        anchor = options.get("name")
        id_ = f' id="{html.escape(anchor)}"' if anchor else ""
        caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        return f'<figure class="lc-figure lc-glue"{id_}>{shown}{caption_html}</figure>\n'


def _unprefixed(output: Mapping[str, Any]) -> Mapping[str, Any]:
    """``glue(..., display=False)`` stores its mime types under a prefix (scrapbook's
    ``mime_prefix``, ``application/papermill.record/``) so that no front end shows them."""
    prefix = output["metadata"]["scrapbook"].get("mime_prefix")
    data = output.get("data")
    if not prefix or not isinstance(prefix, str) or not isinstance(data, Mapping):
        return output
    return {**output, "data": {key.removeprefix(prefix): value for key, value in data.items()}}


def _plain(data: Mapping[str, Any]) -> str:
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _formatted(text: str, spec: str) -> str:
    """``text`` (a value's repr) formatted by ``spec`` where it is a literal number, as myst-nb
    does (``{glue:text}`mean:.2f```); strings lose their quotes."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if spec:
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            return text
    return value if isinstance(value, str) else text


def _restricted(output: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The output as ``{glue:md}`` / ``{glue:math}`` show it: that one representation."""
    mime = _ONLY.get(name)
    data = output.get("data")
    if mime is None or not isinstance(data, Mapping) or mime not in data:
        return output
    return {**output, "data": {mime: data[mime]}}


def _options(body: str) -> tuple[dict[str, str], str]:
    """A directive body mystmd left as written: its ``:key: value`` lines, then the caption."""
    options: dict[str, str] = {}
    lines = body.splitlines()
    while lines and lines[0].startswith(":") and ":" in lines[0][1:]:
        key, value = lines.pop(0)[1:].split(":", 1)
        options[key.strip()] = value.strip()
    return options, "\n".join(lines).strip()
