"""The Sphinx extension itself (``livecells.sphinx`` is its name in ``extensions``)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.util import logging

from livecells.assets import STATIC_DIR, head_for, json_in_html, sri
from livecells.config import parse_options
from livecells.errors import ConfigError
from livecells.pageconfig import MathSettings, page_config, pyodide_settings
from livecells.sphinx.settings import (
    THEBE_DEFAULT_SELECTOR,
    Settings,
    SphinxConfigError,
    read_settings,
)
from livecells.sphinx.theme import sphinx_stylesheet
from livecells.wheels import LOCK_NAME, client_requirement, fetch_wheels

__all__ = ["ASSETS", "setup"]

ASSETS = "livecells"
"""Where the client's files go, under the build's ``_static/``."""
STYLESHEET = "livecells-sphinx.css"
CELL_MARKERS = ('class="cell_input', 'class="nbinput', 'class="thebe')
"""What MyST-NB's, nbsphinx's and sphinx-thebe's cells look like in a page's HTML."""
SKIPPED = ("katex", "pyodide-node.mjs", "pyodide-node-worker.mjs", "livecells.css")
"""Not for Sphinx pages: KaTeX (the theme does math), the Node.js host of ``livecells run``,
the stylesheet of livecells' own pages (:mod:`livecells.sphinx.theme` derives ours)."""
THEBE_SCRIPTS = ("sphinx-thebe.js", "THEBE_JS_URL")

logger = logging.getLogger(__name__)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("livecells_jupyter", None, "html")
    app.add_config_value("livecells", None, "html")
    if "thebe_config" not in app.config:  # sphinx-thebe (Jupyter Book 1 loads it) has it
        app.add_config_value("thebe_config", None, "html")
    if "sphinx_thebe" not in app.extensions:
        app.add_directive("thebe-button", ThebeButton)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


class ThebeButton(Directive):
    """sphinx-thebe's ``thebe-button`` directive: where the page's panel goes (its text, which
    labelled thebe's button, is not needed: the panel has its own)."""

    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        return [nodes.raw("", '<div class="livecells-panel-slot"></div>', format="html")]


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html" or getattr(app.builder, "embedded", False):
        return  # not for e-books and help files (epub, htmlhelp, qthelp): no scripts run there
    if not (STATIC_DIR / "livecells.js").is_file():
        raise SphinxConfigError(
            f"livecells.sphinx: the browser client is not built ({STATIC_DIR} is empty): run "
            "`npm ci && npm run build` in frontend/, or reinstall livecells with Node.js"
        )
    config = app.config
    theme_options = getattr(config, "html_theme_options", None)
    settings = read_settings(
        config.livecells_jupyter, config.livecells, config.thebe_config, theme_options
    )
    for warning in settings.warnings:
        logger.warning(f"livecells: {warning}", type="livecells", subtype="config")
    static = Path(app.outdir) / "_static" / ASSETS
    css = sphinx_stylesheet((STATIC_DIR / "livecells.css").read_text(encoding="utf-8"))
    static.mkdir(parents=True, exist_ok=True)
    (static / STYLESHEET).write_text(css, encoding="utf-8")
    wheels = False
    # A wheel file is named relative to conf.py's folder.
    packages = [
        str(Path(app.confdir) / name) if name.endswith(".whl") else name
        for name in settings.options.get("packages") or []
    ]
    if packages:
        try:
            fetched = fetch_wheels(packages, static / "wheels")
        except ConfigError as exc:
            raise SphinxConfigError(f"conf.py: livecells.packages: {exc}") from None
        for problem in fetched.problems:
            logger.warning(f"livecells: {problem}", type="livecells", subtype="wheels")
        wheels = True
    app.livecells = _State(settings, sri(static / STYLESHEET), wheels)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _State:
    """What the build's pages share: the settings, the stylesheet's hash, whether wheels came."""

    settings: Settings
    style_integrity: str
    wheels: bool


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    state: _State | None = getattr(app, "livecells", None)
    if state is None or doctree is None:
        return
    if "sphinx_thebe" in app.extensions:
        # Jupyter Book 1 loads sphinx-thebe whatever the book says: its scripts would fetch
        # thebe from a CDN on the launch button; the livecells panel does that job.
        context["script_files"][:] = [js for js in context["script_files"] if not _is_thebe(js)]
    settings = state.settings
    metadata = app.env.metadata.get(pagename, {})
    page = _metadata(metadata.get("livecells"))
    if page is False or not settings.jupyter.enabled:
        return
    body = context.get("body") or ""
    selected = settings.markup != THEBE_DEFAULT_SELECTOR and "<pre" in body
    if not (settings.always_load or selected or any(mark in body for mark in CELL_MARKERS)):
        return
    options = dict(settings.options)
    if page is not None and page is not True:
        options.update(_page_options(page, pagename))
    static_url = context["pathto"](f"_static/{ASSETS}/", 1)
    config = page_config(
        settings.jupyter,
        default_runtime="pyodide",
        auto_run=bool(options.get("autoRun", True)),
        trusted=bool(options.get("trusted", False)),
        allow_widget_esm=bool(options.get("allowWidgetESM")),
        kernel_name=_kernel_name(metadata),
        runtime=options.get("runtime"),
        runtimes=options.get("runtimes"),
    )
    if config.offers("pyodide"):
        wanted = [client_requirement(r) for r in options.get("packages") or []]
        pyodide = pyodide_settings(options, wanted)
        if state.wheels:
            pyodide = replace(pyodide, lock_file_url=f"{static_url}wheels/{LOCK_NAME}")
        config = replace(config, pyodide=pyodide)
    mathjax = getattr(app.config, "mathjax_path", None)
    math = MathSettings("mathjax", mathjax) if isinstance(mathjax, str) and mathjax else None
    config = replace(
        config,
        path=context.get("pagename", pagename) + ".html",
        static_url=static_url,
        cells=settings.markup,
        math=math or config.math,
    )
    head = head_for(STATIC_DIR, static_url, config, csp=False)
    assert head is not None  # the client is built: checked when the builder started
    app.add_js_file(
        None, body=json_in_html(config.to_json()), type="application/json",
        id="livecells-config", priority=100,
    )  # fmt: skip
    app.add_js_file(None, body=head.importmap, type="importmap", priority=101)
    app.add_js_file(
        f"{ASSETS}/livecells.js", type="module", integrity=head.script_integrity, priority=102
    )
    app.add_css_file(f"{ASSETS}/{STYLESHEET}", integrity=state.style_integrity)


def _is_thebe(js: Any) -> bool:
    text = f"{getattr(js, 'filename', js) or ''} {getattr(js, 'attributes', {}).get('body', '')}"
    return any(mark in text for mark in THEBE_SCRIPTS)


def _page_options(value: object, pagename: str) -> dict[str, Any]:
    try:
        return parse_options(value, where=f"{pagename}: livecells")
    except ConfigError as exc:
        raise SphinxConfigError(str(exc)) from None


def _metadata(value: object) -> object:
    """A page metadata value as written: docutils and MyST-NB keep frontmatter values as text
    (``livecells: false`` arrives as ``'False'``, a mapping as its JSON)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return json.loads(text)
    except ValueError:
        return value


def _kernel_name(metadata: dict[str, Any]) -> str | None:
    """The page's kernel, as sphinx-thebe finds it: ``thebe-kernel``, else the kernelspec."""
    spec = _metadata(metadata.get("kernelspec"))
    name = metadata.get("thebe-kernel")
    if name is None and isinstance(spec, dict):
        name = spec.get("name")
    return name if isinstance(name, str) else None


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    state: _State | None = getattr(app, "livecells", None)
    if exception is not None or state is None:
        return
    target = Path(app.outdir) / "_static" / ASSETS
    settings = state.settings
    offered = settings.options.get("runtimes")
    pyodide = (
        offered is None or "pyodide" in offered or settings.jupyter.runtime == "pyodide"
    ) or settings.options.get("runtime") == "pyodide"
    _copy_client(target, pyodide=pyodide)


def _copy_client(target: Path, *, pyodide: bool) -> None:
    """The client's files into ``target``, each copied only when it changed (a rebuild copies
    nothing: Pyodide is 30 MB)."""
    for source in sorted(STATIC_DIR.rglob("*")):
        relative = source.relative_to(STATIC_DIR)
        if not source.is_file() or relative.parts[0] in SKIPPED:
            continue
        if not pyodide and relative.parts[0] == "pyodide":
            continue
        copy = target / relative
        stat = source.stat()
        if copy.is_file() and (
            copy.stat().st_size == stat.st_size and copy.stat().st_mtime == stat.st_mtime
        ):
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)
