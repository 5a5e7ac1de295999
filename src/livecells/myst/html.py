"""A page's MyST AST (myst-spec, as mystmd writes it) to HTML: one renderer per node type.

Escaping is by construction: text and attribute values go through :func:`html.escape`, URLs
keep only safe schemes, and the one way author HTML reaches the page is a raw ``html`` node of
page prose (kept as the author wrote it on trusted pages, through nh3 otherwise, as before).
A node type without a renderer is rendered as its children, with a warning naming file:line.

Code cells are not rendered here: the walker hands each executable ``code`` node (and the
``block`` around it, which carries the cell's visibility) to a ``cell`` callback, so the live
cells and their sanitised outputs stay in :mod:`livecells.render`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from livecells.myst.glue import GLUE_NAMES, Glue

__all__ = ["AstRenderer", "Links", "Node"]

Node = Mapping[str, Any]
SAFE_URL = re.compile(r"^(?:https?:|mailto:|#|/|\.|[^:/?#]*(?:[/?#]|$))", re.IGNORECASE)
ADMONITION_TITLES = {"seealso": "See also"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Links:
    """How the renderer turns mystmd's site URLs into the built site's relative ones."""

    page_urls: Mapping[str, str]
    """mystmd's page URL (``/other``) -> our page URL relative to the site root (``other.html``)."""
    root_url: str
    """The way back to the site's root from this page (``""``, ``"../"``...)."""
    assets_url: str
    """Where the hashed assets mystmd wrote live, relative to the site's root (``_myst/``)."""

    def page(self, url: str) -> str | None:
        """A link target: a page of the site (with its anchor), an asset, an address elsewhere
        or an anchor of this page left as it is; ``None`` for a path of this site that leads
        nowhere (what mystmd left unresolved: a page or label the book does not have)."""
        base, hash_, anchor = url.partition("#")
        if base in self.page_urls:
            return self.root_url + self.page_urls[base] + hash_ + anchor
        by_path = base.strip("/") + ".html"  # a page named by its file (a card's ``:link:``)
        if base.startswith("/") and by_path in self.page_urls.values():
            return self.root_url + by_path + hash_ + anchor
        if base.startswith("/") and "/" not in base[1:] and "." in base:
            return self.root_url + self.assets_url + base[1:] + hash_ + anchor
        if base and not base.startswith("//") and not urlsplit(base).scheme:
            return None
        return url

    def asset(self, url: str) -> str:
        if url.startswith("/") and not url.startswith("//"):
            return self.root_url + self.assets_url + url.lstrip("/")
        return url


@dataclass
class AstRenderer:
    """Render one page's AST. ``source`` names the page in warnings; ``cell`` renders an
    executable code cell (the ``block`` and its ``code`` node); ``raw_html`` decides what a
    raw HTML node of the prose becomes (kept, or cleaned on untrusted pages)."""

    source: str
    links: Links
    cell: Callable[[Node, Node], str]
    raw_html: Callable[[str], str]
    citations: Mapping[str, Any] = field(default_factory=dict)
    trusted: bool = False
    warnings: list[str] = field(default_factory=list)
    mermaid: bool = False
    """Set once the page has a diagram (the client then loads mermaid)."""
    glue: Glue | None = None
    """A notebook's glued outputs, for myst-nb's ``{glue}`` roles and directives."""

    def children(self, node: Node) -> str:
        return "".join(self.render(child) for child in node.get("children", ()))

    def render(self, node: Node) -> str:
        kind = str(node.get("type", ""))
        method = _RENDERERS.get(kind)
        if method is None:
            line = node.get("position", {}).get("start", {}).get("line", "?")
            self.warnings.append(
                f"{self.source}:{line}: MyST node '{kind}' has no renderer; showing its content"
            )
            return self.children(node)
        return method(self, node)

    # -- blocks -------------------------------------------------------------------------------

    def root(self, node: Node) -> str:
        return self.children(node)

    def block(self, node: Node) -> str:
        if node.get("kind") == "notebook-code":  # a removed cell still takes its place
            code = next((c for c in node.get("children", ()) if c.get("type") == "code"), None)
            if code is not None:
                return self.cell(node, code)
        if node.get("visibility") == "remove":
            return ""
        return self.children(node)

    def paragraph(self, node: Node) -> str:
        return f"<p>{self.children(node)}</p>\n"

    def heading(self, node: Node) -> str:
        depth = min(max(int(node.get("depth", 2)), 1), 6)
        anchor = node.get("html_id") or node.get("identifier")
        if not anchor:
            return f"<h{depth}>{self.children(node)}</h{depth}>\n"
        return (
            f'<h{depth} id="{_e(anchor)}">{self.children(node)}'
            f'<a class="lc-anchor" href="#{_e(anchor)}" aria-label="Link to this section">#</a>'
            f"</h{depth}>\n"
        )

    def thematic_break(self, node: Node) -> str:
        return "<hr>\n"

    def blockquote(self, node: Node) -> str:
        return f"<blockquote>{self.children(node)}</blockquote>\n"

    def list_(self, node: Node) -> str:
        if node.get("ordered"):
            start = node.get("start")
            first = f' start="{int(start)}"' if isinstance(start, int) and start != 1 else ""
            return f"<ol{first}>{self.children(node)}</ol>\n"
        return f"<ul>{self.children(node)}</ul>\n"

    def list_item(self, node: Node) -> str:
        checked = node.get("checked")
        box = ""
        if isinstance(checked, bool):
            box = f'<input type="checkbox" disabled{" checked" if checked else ""}> '
        return f"<li>{box}{self.children(node)}</li>\n"

    def code(self, node: Node) -> str:
        if node.get("visibility") == "remove":
            return ""
        lang = str(node.get("lang") or "")
        css = f' class="language-{_e(lang)}"' if lang else ""
        name = node.get("filename")
        caption = f'<div class="lc-code-name">{_e(name)}</div>' if name else ""
        return f"{caption}<pre><code{css}>{_e(node.get('value', ''))}</code></pre>\n"

    def html_(self, node: Node) -> str:
        return self.raw_html(str(node.get("value", "")))

    def nothing(self, node: Node) -> str:
        return ""

    def math(self, node: Node) -> str:
        anchor = node.get("html_id")
        id_ = f' id="{_e(anchor)}"' if anchor else ""
        number = node.get("enumerator")
        math = f'<div class="lc-math">\\[{_e(node.get("value", ""))}\\]</div>'
        if not number and not anchor:
            return math + "\n"
        shown = f'<span class="lc-eq-number">({_e(number)})</span>' if number else ""
        return f'<div class="lc-equation"{id_}>{math}{shown}</div>\n'

    def inline_math(self, node: Node) -> str:
        return f'<span class="lc-math">\\({_e(node.get("value", ""))}\\)</span>'

    def admonition(self, node: Node) -> str:
        kind = str(node.get("kind") or "note")
        classes = " ".join(["admonition", kind, *_classes(node)])
        children = list(node.get("children", ()))
        title = ""
        if children and children[0].get("type") == "admonitionTitle":
            title = self.children(children.pop(0))
        else:
            title = _e(ADMONITION_TITLES.get(kind, kind.capitalize()))
        body = "".join(self.render(child) for child in children)
        return (
            f'<aside class="{_e(classes)}"><p class="admonition-title">{title}</p>\n'
            f"{body}</aside>\n"
        )

    def container(self, node: Node) -> str:
        kind = str(node.get("kind") or "figure")
        anchor = node.get("html_id")
        id_ = f' id="{_e(anchor)}"' if anchor else ""
        return f'<figure class="lc-{_e(kind)}"{id_}>{self.children(node)}</figure>\n'

    def caption(self, node: Node) -> str:
        return f"<figcaption>{self.children(node)}</figcaption>"

    def caption_number(self, node: Node) -> str:
        return f'<span class="lc-caption-number">{self.children(node)}</span> '

    def image(self, node: Node) -> str:
        url = str(node.get("url") or "")
        remote = str(node.get("urlSource") or "")
        if url.rsplit("/", 1)[-1] in ("", "undefined"):  # mystmd found no file for it
            if not remote.startswith(("https:", "http:")):
                line = node.get("position", {}).get("start", {}).get("line", "?")
                self.warnings.append(f"{self.source}:{line}: image {remote!r} not found; left out")
                return ""
            url = remote  # a remote image mystmd could not fetch (offline): linked where it lives
        else:
            url = self.links.asset(url)
        if not SAFE_URL.match(url):
            return ""
        attributes = [f'src="{_e(url)}"', f'alt="{_e(node.get("alt", ""))}"']
        for key in ("width", "height"):
            if node.get(key):
                attributes.append(f'{key}="{_e(node[key])}"')
        if node.get("title"):
            attributes.append(f'title="{_e(node["title"])}"')
        return f"<img {' '.join(attributes)}>"

    def table(self, node: Node) -> str:
        return f"<table>{self.children(node)}</table>\n"

    def table_row(self, node: Node) -> str:
        return f"<tr>{self.children(node)}</tr>\n"

    def table_cell(self, node: Node) -> str:
        tag = "th" if node.get("header") else "td"
        align = node.get("align")
        style = f' style="text-align: {_e(align)}"' if align in ("left", "right", "center") else ""
        return f"<{tag}{style}>{self.children(node)}</{tag}>"

    def definition_list(self, node: Node) -> str:
        return f"<dl>{self.children(node)}</dl>\n"

    def definition_term(self, node: Node) -> str:
        anchor = node.get("html_id")
        id_ = f' id="{_e(anchor)}"' if anchor else ""
        return f"<dt{id_}>{self.children(node)}</dt>\n"

    def definition_description(self, node: Node) -> str:
        return f"<dd>{self.children(node)}</dd>\n"

    def footnote_definition(self, node: Node) -> str:
        number = node.get("enumerator") or node.get("identifier", "")
        return (
            f'<div class="lc-footnote" id="fn-{_e(node.get("identifier", ""))}">'
            f"<span>{_e(number)}.</span> {self.children(node)}</div>\n"
        )

    def tab_set(self, node: Node) -> str:
        """Tabs: buttons in a tablist and their panels. Without JavaScript every panel shows; the
        client (``tabs.ts``) then shows one at a time and switches by mouse and keyboard."""
        items = [c for c in node.get("children", ()) if c.get("type") == "tabItem"]
        buttons, panels = [], []
        for index, item in enumerate(items):
            selected = "true" if index == 0 else "false"
            buttons.append(
                f'<button type="button" role="tab" aria-selected="{selected}"'
                f' tabindex="{0 if index == 0 else -1}">{_e(item.get("title", ""))}</button>'
            )
            panels.append(f'<div role="tabpanel" class="lc-tab-panel">{self.children(item)}</div>')
        return (
            f'<div class="lc-tabs"><div role="tablist">{"".join(buttons)}</div>'
            f"{''.join(panels)}</div>\n"
        )

    def tab_item(self, node: Node) -> str:  # outside a tab-set
        return f"<section><h4>{_e(node.get('title', ''))}</h4>{self.children(node)}</section>"

    def grid(self, node: Node) -> str:
        columns = node.get("columns") or [1]
        widest = max((c for c in columns if isinstance(c, int)), default=1)
        return f'<div class="lc-grid" data-columns="{widest}">{self.children(node)}</div>\n'

    def card(self, node: Node) -> str:
        body = self.children(node)
        url = node.get("url")
        target = self._target(node, url) if isinstance(url, str) else None
        if target is not None:
            body = f'<a class="lc-card-link" href="{_e(target)}">{body}</a>'
        return f'<div class="lc-card">{body}</div>\n'

    def grid_item(self, node: Node) -> str:
        return f'<div class="lc-grid-item">{self.children(node)}</div>\n'

    def admonition_title(self, node: Node) -> str:
        """A title outside an admonition (an aside's, a margin note's)."""
        return f'<p class="admonition-title">{self.children(node)}</p>\n'

    def card_title(self, node: Node) -> str:
        return f'<p class="lc-card-title">{self.children(node)}</p>\n'

    def details(self, node: Node) -> str:
        is_open = " open" if node.get("open") else ""
        return f'<details class="lc-dropdown"{is_open}>{self.children(node)}</details>\n'

    def summary(self, node: Node) -> str:
        return f"<summary>{self.children(node)}</summary>"

    def exercise(self, node: Node) -> str:
        return self._titled(node, "exercise", "Exercise")

    def proof(self, node: Node) -> str:
        kind = str(node.get("kind") or "proof")
        return self._titled(node, f"proof {kind}", kind.capitalize())

    def _titled(self, node: Node, kind: str, name: str) -> str:
        anchor = node.get("html_id")
        id_ = f' id="{_e(anchor)}"' if anchor else ""
        children = list(node.get("children", ()))
        title = ""
        if children and children[0].get("type") == "admonitionTitle":
            title = f" ({self.children(children.pop(0))})"
        number = f"\u00a0{_e(node['enumerator'])}" if node.get("enumerator") else ""
        body = "".join(self.render(child) for child in children)
        return (
            f'<aside class="lc-{_e(kind.split()[0])} {_e(kind)}"{id_}>'
            f'<p class="admonition-title">{_e(name)}{number}{title}</p>\n{body}</aside>\n'
        )

    def solution(self, node: Node) -> str:
        """Collapsed until the reader opens it."""
        children = list(node.get("children", ()))
        title = "Solution"
        if children and children[0].get("type") == "admonitionTitle":
            title = self.children(children.pop(0))
        body = "".join(self.render(child) for child in children)
        return f'<details class="lc-solution"><summary>{title}</summary>\n{body}</details>\n'

    def mermaid_(self, node: Node) -> str:
        self.mermaid = True
        return f'<pre class="lc-mermaid">{_e(node.get("value", ""))}</pre>\n'

    def iframe(self, node: Node) -> str:
        """Embedded on trusted pages; elsewhere (a notebook anyone may have written) a link."""
        src = str(node.get("src", ""))
        if not src.lower().startswith(("https:", "http:")):
            return ""
        if not self.trusted:
            return (
                f'<p><a class="lc-iframe-link" href="{_e(src)}" rel="noopener">{_e(src)}</a></p>\n'
            )
        width = node.get("width") or "100%"
        return (
            f'<iframe class="lc-iframe" src="{_e(src)}" width="{_e(width)}" loading="lazy"'
            ' sandbox="allow-scripts allow-same-origin" referrerpolicy="no-referrer"></iframe>\n'
        )

    def bibliography(self, node: Node) -> str:
        order = self.citations.get("order", [])
        data = self.citations.get("data", {})
        entries = []
        for label in order:
            entry = data.get(label, {})
            text = self.raw_html(str(entry.get("html", _e(label))))
            entries.append(f'<li id="cite-{_e(label)}">{text}</li>')
        if not entries:
            return ""
        return f'<section class="lc-bibliography"><ol>{"".join(entries)}</ol></section>\n'

    def unknown_directive(self, node: Node) -> str:
        """mystmd already warned; the reader still sees what the author wrote."""
        name, args = str(node.get("name", "")), str(node.get("args", ""))
        if name in GLUE_NAMES:
            shown = self._glue(node, args, lambda glue: glue.directive(name, args, _value(node)))
            if shown is not None:
                return shown
        return f'<pre class="lc-unknown">{_e(node.get("value", ""))}</pre>\n'

    def unknown_role(self, node: Node) -> str:
        name, value = str(node.get("name", "")), _value(node)
        if name in GLUE_NAMES:
            shown = self._glue(node, value, lambda glue: glue.role(name, value))
            if shown is not None:
                return shown
        return f"<code>{_e(value)}</code>"

    def _glue(self, node: Node, key: str, show: Callable[[Glue], str | None]) -> str | None:
        shown = show(self.glue) if self.glue is not None else None
        if shown is None:
            line = node.get("position", {}).get("start", {}).get("line", "?")
            self.warnings.append(
                f"{self.source}:{line}: no output of this page is glued as '{key.strip()}' "
                "(myst_nb.glue in one of its cells, with stored outputs); shown as written"
            )
        return shown

    def div(self, node: Node) -> str:
        classes = " ".join(_classes(node))
        css = f' class="{_e(classes)}"' if classes else ""
        return f"<div{css}>{self.children(node)}</div>\n"

    def aside(self, node: Node) -> str:
        return f'<aside class="lc-aside">{self.children(node)}</aside>\n'

    def output(self, node: Node) -> str:
        return ""  # outputs come with their cell

    # -- inline -------------------------------------------------------------------------------

    def text(self, node: Node) -> str:
        return _e(node.get("value", ""))

    def inline_code(self, node: Node) -> str:
        return f"<code>{_e(node.get('value', ''))}</code>"

    def emphasis(self, node: Node) -> str:
        return f"<em>{self.children(node)}</em>"

    def strong(self, node: Node) -> str:
        return f"<strong>{self.children(node)}</strong>"

    def break_(self, node: Node) -> str:
        return "<br>"

    def abbreviation(self, node: Node) -> str:
        title = node.get("title")
        attribute = f' title="{_e(title)}"' if title else ""
        return f"<abbr{attribute}>{self.children(node)}</abbr>"

    def link(self, node: Node) -> str:
        url = str(node.get("url", ""))
        target = self._target(node, url)
        body = self.children(node) or _e(url)
        if target is None:
            return f'<span class="lc-unresolved">{body}</span>'
        if not SAFE_URL.match(target):
            return body
        external = "" if node.get("internal") else ' rel="noopener"'
        return f'<a href="{_e(target)}"{external}>{body}</a>'

    def cross_reference(self, node: Node) -> str:
        body = self.children(node) or _e(node.get("label", ""))
        # mystmd marks what it resolved; a label the book does not have stays as it was (and
        # mystmd has said so).
        if not (node.get("resolved") or node.get("url") or node.get("html_id")):
            identifier = str(node.get("identifier", ""))
            if self.glue is not None and identifier in self.glue.figures:  # mystmd cannot know
                return f'<a class="lc-xref" href="#{_e(identifier)}">{body}</a>'
            return f'<span class="lc-unresolved">{body}</span>'
        anchor = node.get("html_id") or node.get("identifier") or ""
        base = self.links.page(str(node["url"])) if node.get("url") else ""
        if base is None:
            self._unresolved(node, f"cross-reference to '{node['url']}'")
            return f'<span class="lc-unresolved">{body}</span>'
        if not SAFE_URL.match(base):
            return body
        return f'<a class="lc-xref" href="{_e(base)}#{_e(anchor)}">{body}</a>'

    def _target(self, node: Node, url: str) -> str | None:
        """Where a link or card leads, or ``None`` (with a warning) when nowhere."""
        target = self.links.page(url)
        if target is None:
            self._unresolved(node, f"link to '{url}'")
        return target

    def _unresolved(self, node: Node, what: str) -> None:
        line = node.get("position", {}).get("start", {}).get("line", "?")
        self.warnings.append(
            f"{self.source}:{line}: {what} leads to no page or label of this book; shown as text"
        )

    def cite(self, node: Node) -> str:
        label = str(node.get("label", ""))
        body = self.children(node) or _e(label)
        if node.get("error"):
            return f'<span class="lc-unresolved">{body}</span>'
        return f'<a class="lc-cite" href="#cite-{_e(label)}">{body}</a>'

    def cite_group(self, node: Node) -> str:
        parts = [self.render(child) for child in node.get("children", ())]
        if node.get("kind") == "parenthetical":
            return f"({'; '.join(parts)})"
        return ", ".join(parts)

    def footnote_reference(self, node: Node) -> str:
        identifier = node.get("identifier", "")
        number = node.get("enumerator") or identifier
        return f'<sup><a href="#fn-{_e(identifier)}">{_e(number)}</a></sup>'

    def span(self, node: Node) -> str:
        classes = " ".join(_classes(node))
        css = f' class="{_e(classes)}"' if classes else ""
        return f"<span{css}>{self.children(node)}</span>"


def _wrap(tag: str) -> Callable[[AstRenderer, Node], str]:
    def render(self: AstRenderer, node: Node) -> str:
        return f"<{tag}>{self.children(node)}</{tag}>"

    return render


def _value(node: Node) -> str:
    return str(node.get("value", ""))


def _classes(node: Node) -> list[str]:
    value = node.get("class")
    return value.split() if isinstance(value, str) else []


_RENDERERS: dict[str, Callable[[AstRenderer, Node], str]] = {
    "root": AstRenderer.root,
    "block": AstRenderer.block,
    "paragraph": AstRenderer.paragraph,
    "heading": AstRenderer.heading,
    "thematicBreak": AstRenderer.thematic_break,
    "blockquote": AstRenderer.blockquote,
    "list": AstRenderer.list_,
    "listItem": AstRenderer.list_item,
    "code": AstRenderer.code,
    "html": AstRenderer.html_,
    "comment": AstRenderer.nothing,
    "target": AstRenderer.nothing,
    "mystTarget": AstRenderer.nothing,
    "mystComment": AstRenderer.nothing,
    "math": AstRenderer.math,
    "inlineMath": AstRenderer.inline_math,
    "admonition": AstRenderer.admonition,
    "container": AstRenderer.container,
    "caption": AstRenderer.caption,
    "legend": AstRenderer.div,
    "captionNumber": AstRenderer.caption_number,
    "image": AstRenderer.image,
    "table": AstRenderer.table,
    "tableRow": AstRenderer.table_row,
    "tableCell": AstRenderer.table_cell,
    "definitionList": AstRenderer.definition_list,
    "definitionTerm": AstRenderer.definition_term,
    "definitionDescription": AstRenderer.definition_description,
    "footnoteDefinition": AstRenderer.footnote_definition,
    "footnoteReference": AstRenderer.footnote_reference,
    "tabSet": AstRenderer.tab_set,
    "tabItem": AstRenderer.tab_item,
    "grid": AstRenderer.grid,
    "card": AstRenderer.card,
    "grid-item": AstRenderer.grid_item,
    "admonitionTitle": AstRenderer.admonition_title,
    "cardTitle": AstRenderer.card_title,
    "header": AstRenderer.div,
    "footer": AstRenderer.div,
    "details": AstRenderer.details,
    "summary": AstRenderer.summary,
    "exercise": AstRenderer.exercise,
    "solution": AstRenderer.solution,
    "proof": AstRenderer.proof,
    "mermaid": AstRenderer.mermaid_,
    "iframe": AstRenderer.iframe,
    "include": AstRenderer.root,
    "embed": AstRenderer.root,
    "bibliography": AstRenderer.bibliography,
    "mystDirective": AstRenderer.unknown_directive,
    "mystRole": AstRenderer.unknown_role,
    "div": AstRenderer.div,
    "aside": AstRenderer.aside,
    "outputs": AstRenderer.output,
    "output": AstRenderer.output,
    "text": AstRenderer.text,
    "inlineCode": AstRenderer.inline_code,
    "emphasis": AstRenderer.emphasis,
    "strong": AstRenderer.strong,
    "delete": _wrap("del"),
    "underline": _wrap("u"),
    "subscript": _wrap("sub"),
    "superscript": _wrap("sup"),
    "keyboard": _wrap("kbd"),
    "smallcaps": _wrap("small"),
    "break": AstRenderer.break_,
    "abbreviation": AstRenderer.abbreviation,
    "link": AstRenderer.link,
    "crossReference": AstRenderer.cross_reference,
    "cite": AstRenderer.cite,
    "citeGroup": AstRenderer.cite_group,
    "span": AstRenderer.span,
    "glossary": AstRenderer.root,
}
