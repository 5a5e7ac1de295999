"""The client's stylesheet for a Sphinx theme's pages: ``livecells.css`` without what styles
livecells' own pages (their layout, prose, admonitions, code blocks, ``color-scheme``), so no
rule of the theme's is overridden, and dark exactly when the theme is: pydata-sphinx-theme and
sphinx-book-theme set ``data-theme="dark"`` on ``<html>``, furo on ``<body>`` (or ``auto``,
which follows the system); alabaster has no dark mode, so its pages stay light.

The stylesheet is derived from the built one at build time (the two cannot drift): top-level
rules are kept when every selector in them is a cell, panel, output or ANSI colour class, and
the ``prefers-color-scheme: dark`` blocks are re-scoped to the themes' dark markers.
"""

from __future__ import annotations

import re

__all__ = ["sphinx_stylesheet"]

DARK = ('html[data-theme="dark"]', 'body[data-theme="dark"]')
AUTO = 'body[data-theme="auto"]'
"""furo's "follow the system" setting (its default)."""
PAGE_ONLY = re.compile(
    r"lc-(site|header|layout|toc|page|pager|next|prev|markdown|latex|raw)\b|\.lc-source\b"
)
"""livecells' own page layout and prose, and its code-block look (the theme styles its ``pre``)."""
OURS = re.compile(r"\.(lc|ansi)-|^:root$")
COMMENT = re.compile(r"/\*.*?\*/", re.S)
FOR_THEMES = """\
.lc-panel { flex-wrap: wrap; top: var(--pst-header-height, 0px); }
"""
"""A theme's content column is narrower than livecells' pages: the panel's buttons wrap; it
sticks below pydata-sphinx-theme's (and sphinx-book-theme's) sticky header."""


def sphinx_stylesheet(css: str) -> str:
    """``css`` (the built ``livecells.css``) for a Sphinx theme's pages."""
    out: list[str] = []
    for prelude, body in _blocks(COMMENT.sub("", css)):
        if prelude.startswith("@media") and "prefers-color-scheme: dark" in prelude:
            rules = _blocks(body)
            out += [_rule(_scoped(sel, DARK), decl) for sel, decl in rules]
            auto = "".join(_rule(_scoped(sel, (AUTO,)), decl) for sel, decl in rules)
            out.append(f"@media (prefers-color-scheme: dark) {{\n{auto}}}\n")
        elif prelude.startswith("@"):
            inner = "".join(_rule(sel, decl) for sel, decl in _blocks(body) if _keep(sel))
            if inner:
                out.append(f"{prelude} {{\n{inner}}}\n")
        elif _keep(prelude):
            out.append(_rule(_ours(prelude), _no_color_scheme(body)))
    return "".join(out) + FOR_THEMES


def _blocks(css: str) -> list[tuple[str, str]]:
    """The top-level ``prelude { body }`` blocks of ``css`` (bodies may nest one level)."""
    blocks: list[tuple[str, str]] = []
    depth, start, prelude = 0, 0, ""
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude, start = css[start:index].strip(), index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append((prelude, css[start:index].strip()))
                start = index + 1
    return blocks


def _selectors(prelude: str) -> list[str]:
    return [part.strip() for part in prelude.split(",") if part.strip()]


def _keep(prelude: str) -> bool:
    return any(OURS.search(sel) and not PAGE_ONLY.search(sel) for sel in _selectors(prelude))


def _ours(prelude: str) -> str:
    return ", ".join(s for s in _selectors(prelude) if OURS.search(s) and not PAGE_ONLY.search(s))


def _scoped(prelude: str, roots: tuple[str, ...]) -> str:
    scoped: list[str] = []
    for selector in _selectors(prelude):
        if selector == ":root":
            scoped += roots
        elif OURS.search(selector) and not PAGE_ONLY.search(selector):
            scoped += [f"{root} {selector}" for root in roots]
    return ", ".join(scoped)


def _no_color_scheme(body: str) -> str:
    return re.sub(r"color-scheme:[^;]*;?", "", body).strip()


def _rule(selector: str, body: str) -> str:
    return f"{selector} {{ {body} }}\n" if selector else ""
