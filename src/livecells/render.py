"""Pages to HTML: prose (mystmd's AST through :mod:`livecells.myst.html`), code cells with
their stored outputs (the static fallback that reads without JavaScript) and their visibility
(``remove-*`` never reaches the HTML, ``hide-*`` is collapsed behind a toggle), the site's
navigation, and the ``PageConfig`` the browser client reads.

Stored outputs come from files anyone may have written, so they are sanitised here as live
outputs are in the browser: HTML through nh3 (an allowlist; scripts, handlers and
``javascript:`` URLs dropped), SVG only as an ``<img>`` (where scripts never run), text escaped.
The raw HTML of the prose is too, unless the page is trusted (``livecells: trusted: true``), as
Jupyter treats the Markdown of a notebook it has not trusted: raw HTML in a downloaded notebook
would otherwise run on the serving origin, with its author's login.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

import nh3
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from livecells.assets import Head, json_in_html
from livecells.bokehplots import bokeh_html
from livecells.highlight import highlight
from livecells.myst.glue import Glue, glued_name
from livecells.myst.html import AstRenderer, Links, Node
from livecells.myst.project import MystPage
from livecells.pageconfig import PageConfig
from livecells.pages import Cell, Page

__all__ = ["ansi_to_html", "render_outputs", "render_page", "title_html", "title_text"]

MIME_ORDER = (
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/markdown",
    "text/latex",
    "application/json",
    "text/plain",
)
ANSI = re.compile(r"\x1b\[([0-9;]*)m")
ANSI_OTHER = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("livecells", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    page: Page,
    *,
    myst: MystPage,
    links: Links,
    config: PageConfig,
    root_url: str,
    site_title: str,
    nav: list[dict[str, Any]],
    previous: dict[str, str] | None = None,
    following: dict[str, str] | None = None,
    head: Head | None = None,
    warnings: list[str] | None = None,
) -> str:
    """The page's HTML. ``root_url`` is the relative way back to the site's root (``""`` or
    ``"../"``...), so the same files work under any prefix, served or static. The renderer's
    warnings (a node type it does not know) are added to ``warnings``."""
    code_cells = [(index, cell) for index, cell in enumerate(page.cells) if cell.kind == "code"]
    seen = iter(code_cells)

    def cell(block: Node, code: Node) -> str:
        index, found = next(seen, (None, None))
        if index is None or found is None:  # mystmd saw more cells than jupytext: no outputs
            index, found = len(page.cells) + len(code_cells), Cell("code", str(code["value"]))
        return _code_cell(index, found, page.language, block=block, code=code)

    def raw_html(value: str) -> str:
        return value if config.trusted else clean_prose(value)

    renderer = AstRenderer(
        myst.path.as_posix(),
        links,
        cell=cell,
        raw_html=raw_html,
        citations=myst.citations,
        trusted=config.trusted,
        glue=Glue.of(
            (output for cell in page.cells for output in cell.outputs),
            _output_html,
            mdast=myst.mdast,
        ),
    )
    sections = []
    for block in myst.mdast.get("children", ()):
        body = renderer.render(block)
        if not body.strip():
            continue
        if block.get("kind") == "notebook-code":
            sections.append(Markup(body))
        else:
            sections.append(Markup(f'<section class="lc-markdown">{body}</section>'))
    if myst.citations.get("order") and not _has_node(myst.mdast, "bibliography"):
        # As MyST sites do: a page that cites gets its references at the end.
        sections.append(Markup(renderer.bibliography({"type": "bibliography"})))
    if warnings is not None:
        warnings.extend(renderer.warnings)
    config_json = json_in_html(config.to_json())
    widget_state = saved_widget_state(page, warnings)
    return (
        _templates()
        .get_template("page.html")
        .render(
            page=page,
            title_html=Markup(title_html(myst.title)),
            title_text=title_text(myst.title),
            cells=sections,
            config_json=Markup(config_json),
            widget_state=Markup(widget_state) if widget_state else None,
            root_url=root_url,
            static_url=root_url + "_livecells/",
            site_title=site_title,
            nav=nav,
            previous=previous,
            following=following,
            live=config.runtime is not None,
            head=head,
        )
    )


MAX_WIDGET_STATE = 8 * 1024 * 1024
"""Bytes of saved widget state a page carries at most (its JSON, buffers included): a notebook
with more saved its widgets' data along, which no reader's browser should have to parse."""


def saved_widget_state(page: Page, warnings: list[str] | None) -> str | None:
    """The page's saved widget state as JSON for a ``<script>`` element, when one of its outputs
    shows a widget; None when there is none, or it is too big (then a warning says so). A
    state of another version or shape goes in as it is: the browser checks it model by model
    (``widgetstate.ts``) and says what is wrong beneath the first view, where the reader looks;
    the author is warned here too."""
    state = page.widget_state
    if state is None or not any(
        _widget_model(output.get("data")) for cell in page.cells for output in cell.outputs
    ):
        return None
    text = json_in_html(state)
    problem = None
    if len(text) > MAX_WIDGET_STATE:
        problem = (
            f"its saved widget state ({len(text)} bytes) is over the {MAX_WIDGET_STATE} bytes"
            " a page carries: left out, its widgets show as text"
        )
    elif not isinstance(state, Mapping) or state.get("version_major") != 2:
        problem = "its saved widget state is not of version 2 (ipywidgets 8): widgets show as text"
    if problem and warnings is not None:
        warnings.append(f"{page.path.as_posix()}: {problem}")
    return None if len(text) > MAX_WIDGET_STATE else text
    problem = None
    if not isinstance(state, Mapping) or state.get("version_major") != 2:
        problem = "not a version 2 widget state (ipywidgets 8): its widgets show as text"
    else:
        text = json_in_html(state)
        if len(text) <= MAX_WIDGET_STATE:
            return text
        problem = (
            f"its saved widget state ({len(text)} bytes) is over the {MAX_WIDGET_STATE} bytes"
            " a page carries: left out, its widgets show as text"
        )
    if warnings is not None:
        warnings.append(f"{page.path.as_posix()}: {problem}")
    return None


WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
_MODEL_ID = re.compile(r"[\w.-]{1,128}")


def _widget_model(data: Any) -> str | None:
    """The model id of a widget view in an output's MIME bundle, if it has a valid one."""
    if not isinstance(data, Mapping):
        return None
    view = data.get(WIDGET_VIEW_MIME)
    model = view.get("model_id") if isinstance(view, Mapping) else None
    return model if isinstance(model, str) and _MODEL_ID.fullmatch(model) else None


def _has_node(node: Node, kind: str) -> bool:
    """Whether ``node`` or a node under it is of type ``kind``."""
    if node.get("type") == kind:
        return True
    return any(_has_node(child, kind) for child in node.get("children", ()))


@cache
def _inline() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def title_html(title: str) -> str:
    """A title's Markdown (``Every *construct*``) as inline HTML, raw HTML escaped."""
    rendered: str = _inline().renderInline(title)
    return rendered


@lru_cache(maxsize=4096)
def title_text(title: str) -> str:
    """A title's Markdown as plain text, for ``<title>`` and the navigation."""
    tokens = _inline().parseInline(title)
    parts = [
        child.content
        for token in tokens
        for child in token.children or ()
        if child.type in ("text", "code_inline")
    ]
    return "".join(parts).strip() or title


def _code_cell(index: int, cell: Cell, language: str, *, block: Node, code: Node) -> str:
    """A live code cell (or, when its input is removed, its outputs alone: not offered live),
    with ``hide-*`` as ``<details>`` toggles the client leaves alone (a hidden input still runs
    with the others)."""
    if block.get("visibility") == "remove":
        return ""
    outputs_node: Node = next(
        (child for child in block.get("children", ()) if child.get("type") == "outputs"), {}
    )
    outputs_visibility = outputs_node.get("visibility", "show")
    # A glued output shows where the text pastes it (myst-nb), not under its cell.
    shown = [output for output in cell.outputs if glued_name(output) is None]
    stored = "" if outputs_visibility == "remove" else render_outputs(shown)
    count = "" if cell.execution_count is None else str(cell.execution_count)
    outputs = f'<div class="lc-outputs" data-execution-count="{count}">{stored}</div>'
    if cell.figure is not None:  # the caption stays when a run replaces the outputs
        name = cell.figure.get("name")
        id_ = f' id="{html.escape(name)}"' if name else ""
        caption = html.escape(cell.figure.get("caption", ""))
        caption = f"<figcaption>{caption}</figcaption>" if caption else ""
        outputs = f'<figure class="lc-figure"{id_}>{outputs}{caption}</figure>'
    if outputs_visibility == "hide":
        outputs = (
            f'<details class="lc-hide-output"><summary>Show output</summary>{outputs}</details>'
        )
    if code.get("visibility") == "remove":
        return f'<div class="lc-static-cell" id="cell-{index}">{outputs}</div>'
    source = f'<pre class="lc-source"><code>{highlight(cell.source, language)}</code></pre>'
    if code.get("visibility") == "hide":
        source = f'<details class="lc-hide-input"><summary>Show code</summary>{source}</details>'
    tags = " ".join(cell.tags)
    live = (
        f'<div class="lc-cell" id="cell-{index}" data-cell-index="{index}"'
        f' data-language="{html.escape(language)}"'
        f' data-tags="{html.escape(tags)}">{source}{outputs}</div>'
    )
    if block.get("visibility") == "hide":
        return f'<details class="lc-hide-cell"><summary>Show code cell</summary>{live}</details>'
    return live


_PROSE_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    # What the Markdown renderer writes itself: classes (math, admonitions, task lists,
    # footnotes), ids (footnotes' anchors), a checkbox's state.
    "*": {"class", "id", "title", "lang", "dir"},
    "input": {"disabled", "checked"},
}


def clean_prose(html_text: str) -> str:
    """Rendered Markdown without what could run: nh3's allowlist (no scripts, event handlers,
    ``javascript:`` URLs, forms or frames), keeping the renderer's own classes and ids and a
    task list's disabled checkboxes."""
    return nh3.clean(
        html_text,
        tags=nh3.ALLOWED_TAGS | {"input"},
        attributes=_PROSE_ATTRIBUTES,
        tag_attribute_values={"input": {"type": {"checkbox"}}},
    )


def render_outputs(outputs: list[dict[str, Any]]) -> str:
    """Stored nbformat outputs as static, sanitised HTML."""
    return "".join(_output_html(output) for output in outputs)


def _output_html(output: Mapping[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        text = _text(output.get("text", ""))
        return f'<pre class="lc-output lc-stream lc-{name}">{ansi_to_html(text)}</pre>'
    if kind == "error":
        traceback = "\n".join(str(line) for line in output.get("traceback", []))
        if not traceback:
            traceback = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        return f'<pre class="lc-output lc-error">{ansi_to_html(traceback)}</pre>'
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        if isinstance(data, Mapping):
            model = _widget_model(data)
            if model:  # its text until the client shows the widget (from the saved state)
                return (
                    f'<div class="lc-widget" data-widget-model="{model}">{_mime_html(data)}</div>'
                )
            return _mime_html(data)
    return ""


def _mime_html(data: Mapping[str, Any]) -> str:
    if (bokeh := bokeh_html(data)) is not None:
        return bokeh
    for mime in MIME_ORDER:
        if mime not in data:
            continue
        value = data[mime]
        if mime == "text/html":
            body = nh3.clean(_text(value))
            return f'<div class="lc-output lc-html">{body}</div>'
        if mime == "image/svg+xml":
            encoded = base64.b64encode(_text(value).encode()).decode()
            return (
                f'<div class="lc-output lc-image"><img alt="SVG output" '
                f'src="data:image/svg+xml;base64,{encoded}"></div>'
            )
        if mime.startswith("image/"):
            encoded = "".join(_text(value).split())
            if not re.fullmatch(r"[A-Za-z0-9+/=]*", encoded):
                continue
            return (
                f'<div class="lc-output lc-image"><img alt="{mime} output" '
                f'src="data:{mime};base64,{encoded}"></div>'
            )
        if mime == "text/markdown":
            body = nh3.clean(_outputs_markdown().render(_text(value)))
            return f'<div class="lc-output lc-markdown-output">{body}</div>'
        if mime == "text/latex":
            return f'<div class="lc-output lc-latex lc-math">{html.escape(_text(value))}</div>'
        if mime == "application/json":
            text = json.dumps(value, indent=2, sort_keys=True)
            return f'<pre class="lc-output lc-json">{html.escape(text)}</pre>'
        return f'<pre class="lc-output lc-text">{ansi_to_html(_text(value))}</pre>'
    return ""


@cache
def _outputs_markdown() -> MarkdownIt:
    """A ``text/markdown`` output is CommonMark with tables (what Jupyter renders), cleaned."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def ansi_to_html(text: str) -> str:
    """Escape ``text`` and turn its ANSI colour codes (SGR) into ``ansi-*`` spans, the class
    names Jupyter frontends use; other escape sequences are dropped."""
    out: list[str] = []
    classes: list[str] = []
    position = 0
    text = ANSI_OTHER.sub(lambda m: m.group(0) if m.group(0).endswith("m") else "", text)
    for match in ANSI.finditer(text):
        out.append(_span(text[position : match.start()], classes))
        classes = _apply_sgr(classes, match.group(1))
        position = match.end()
    out.append(_span(text[position:], classes))
    return "".join(out)


def _span(text: str, classes: list[str]) -> str:
    if not text:
        return ""
    if not classes:
        return html.escape(text)
    return f'<span class="{" ".join(classes)}">{html.escape(text)}</span>'


def _apply_sgr(classes: list[str], codes: str) -> list[str]:
    result = list(classes)
    for code in [int(c) for c in codes.split(";") if c.isdigit()] or [0]:
        if code == 0:
            result = []
        elif code == 1:
            result.append("ansi-bold")
        elif code == 4:
            result.append("ansi-underline")
        elif 30 <= code <= 37 or 90 <= code <= 97:
            result = [c for c in result if not c.endswith("-fg")]
            bright = "bright-" if code >= 90 else ""
            result.append(f"ansi-{bright}{COLOURS[code % 10]}-fg")
        elif 40 <= code <= 47 or 100 <= code <= 107:
            result = [c for c in result if not c.endswith("-bg")]
            bright = "bright-" if code >= 100 else ""
            result.append(f"ansi-{bright}{COLOURS[code % 10]}-bg")
        elif code == 39:
            result = [c for c in result if not c.endswith("-fg")]
        elif code == 49:
            result = [c for c in result if not c.endswith("-bg")]
    return result
