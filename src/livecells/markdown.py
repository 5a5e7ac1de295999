"""Prose to HTML: markdown-it-py with the MyST syntax a page is likely to use.

Tables, footnotes, definition lists, task lists, ``$``/``$$`` math and ``\\begin{align}``
environments, and directives written as colon fences (``:::{note}``) or backtick fences
(```` ```{warning} ````). Math is left as ``\\(...\\)`` / ``\\[...\\]`` in ``lc-math`` elements
for the browser to typeset (KaTeX, or MathJax when configured); with JavaScript off it reads
as LaTeX source. Page prose is the author's, so raw HTML in it is kept; outputs are not
(see :mod:`livecells.render`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

__all__ = ["render_markdown"]

ADMONITIONS = frozenset(
    {
        "admonition",
        "attention",
        "caution",
        "danger",
        "error",
        "hint",
        "important",
        "note",
        "seealso",
        "tip",
        "warning",
    }
)
DIRECTIVE = re.compile(r"^\{([\w-]+)\}\s*(.*)$")
OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")


def render_markdown(text: str) -> str:
    """HTML for a Markdown cell or page body."""
    html: str = _parser().render(text)
    return html


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.use(front_matter_plugin)
    md.use(footnote_plugin)
    md.use(deflist_plugin)
    md.use(tasklists_plugin)
    md.use(colon_fence_plugin)
    md.use(amsmath_plugin, renderer=lambda content: _math(content, display=True))
    md.use(dollarmath_plugin, renderer=lambda content, options: _math(content, **_display(options)))
    md.add_render_rule("front_matter", lambda *args: "")
    md.add_render_rule("colon_fence", _directive)
    default_fence = md.renderer.rules.get("fence")  # type: ignore[attr-defined]

    def fence(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        if DIRECTIVE.match(tokens[idx].info.strip()):
            return _directive(self, tokens, idx, options, env)
        assert default_fence is not None
        html: str = default_fence(tokens, idx, options, env)
        return html

    md.add_render_rule("fence", fence)
    return md


def _display(options: dict[str, Any]) -> dict[str, bool]:
    return {"display": bool(options.get("display_mode"))}


def _math(content: str, *, display: bool) -> str:
    if display:
        return f'<div class="lc-math">\\[{html.escape(content.strip())}\\]</div>\n'
    return f'<span class="lc-math">\\({html.escape(content)}\\)</span>'


def _directive(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A MyST directive: admonitions and ``{math}`` are rendered, others shown as their body."""
    token = tokens[idx]
    match = DIRECTIVE.match(token.info.strip())
    body = token.content
    if match is None:  # a plain colon fence
        return f"<div>{_parser().render(body)}</div>\n"
    name, argument = match.group(1), match.group(2).strip()
    lines = body.splitlines()
    options_seen: dict[str, str] = {}
    while lines and (option := OPTION.match(lines[0])):
        options_seen[option.group(1)] = option.group(2)
        lines.pop(0)
    body = "\n".join(lines)
    if name == "math":
        return _math(body, display=True)
    if name in ADMONITIONS:
        title = argument or ("See also" if name == "seealso" else name.capitalize())
        classes = " ".join(["admonition", name, *options_seen.get("class", "").split()])
        return (
            f'<aside class="{html.escape(classes)}">'
            f'<p class="admonition-title">{_parser().renderInline(title)}</p>\n'
            f"{_parser().render(body)}</aside>\n"
        )
    if name in ("code", "code-block", "sourcecode"):
        language = html.escape(argument.split()[0]) if argument else ""
        return f'<pre><code class="language-{language}">{html.escape(body)}\n</code></pre>\n'
    # An unknown directive: keep its content readable rather than lose it.
    return f'<div class="directive {html.escape(name)}">{_parser().render(body)}</div>\n'
