"""The page's configuration: what livecells writes into every page (``#livecells-config``) and
the browser client reads (``PageConfig`` in ``frontend/src/config.ts``).

One typed builder, :func:`page_config`, makes it from the project's and the page's settings;
:meth:`PageConfig.to_json` gives the client's names, which are these fields' names in
camelCase (``kernel_name`` -> ``kernelName``; ``index_urls`` -> ``indexURLs`` and
``lock_file_url`` -> ``lockFileURL``, as Pyodide spells them). ``tests/test_pageconfig.py``
keeps the two sides' names and defaults the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Literal

from livecells.config import (
    PAGE_RUNTIMES,
    PYODIDE_TIMEOUT_MS,
    SESSION_MAX_AGE,
    Binder,
    Jupyter,
    binder_with_repo,
)

__all__ = [
    "BinderSettings",
    "CellMarkup",
    "MathSettings",
    "PageConfig",
    "PyodideSettings",
    "Served",
    "ServerSettings",
    "page_config",
    "pyodide_settings",
    "served",
]


@dataclass(frozen=True)
class ServerSettings:
    url: str
    token: str | None = None


@dataclass(frozen=True)
class BinderSettings:
    repo: str | None
    ref: str | None
    url: str
    provider: str


@dataclass(frozen=True)
class CellMarkup:
    """Where a page written by another tool keeps its cells (``livecells.sphinx``): those
    ``selector`` matches, each one's source the ``input`` inside it, its outputs ``output``
    (sphinx-thebe's ``selector``, ``selector_input`` and ``selector_output``). MyST-NB's and
    nbsphinx's cells are found without it (``frontend/src/markup.ts``)."""

    selector: str
    input: str = "pre"
    output: str = ""


@dataclass(frozen=True)
class MathSettings:
    """KaTeX (self-hosted; ``integrity`` is its stylesheet's SRI hash) or MathJax from a URL."""

    engine: Literal["katex", "mathjax"] = "katex"
    url: str | None = None
    config: str | None = None
    integrity: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.engine == "mathjax":
            return {"engine": "mathjax", "url": self.url, "config": self.config}
        return {"engine": "katex", **({"integrity": self.integrity} if self.integrity else {})}


@dataclass(frozen=True)
class PyodideSettings:
    """The Pyodide runtime's settings; URLs stay as written (the client resolves them)."""

    index_urls: tuple[str, ...] = field(default=(), metadata={"json": "indexURLs"})
    timeout_ms: int = PYODIDE_TIMEOUT_MS
    packages: tuple[str, ...] = ()
    autoload_imports: bool = True
    figure_formats: tuple[str, ...] = ("svg",)
    preload: bool = True
    """Load Python when the page opens, so the first run does not wait (no cell runs)."""
    lock_file_url: str | None = field(default=None, metadata={"json": "lockFileURL"})
    snapshot: bool = True
    files_url: str | None = field(default=None, metadata={"json": "filesURL"})
    """The listing of the files beside the page (:mod:`livecells.pagefiles`)."""
    preparing: bool = False
    """``livecells serve`` is still resolving the page's wheels: the page says so, and
    reloads once they are ready."""


@dataclass(frozen=True)
class Served:
    """What a serving ``livecells serve`` adds to each of its pages."""

    base_url: str
    open_in_jupyter: str | None
    """Where the served folder opens in Jupyter (the page's path is appended), if anywhere."""
    watch: bool
    """Reload the page when its file changes (not for the public)."""
    auto_run: bool | None = None
    """Overrides every page's ``autoRun`` when set."""


@dataclass(frozen=True)
class PageConfig:
    """Everything the client needs to know about a page. ``runtime`` None: execution is off
    for the page (no panel)."""

    runtime: str | None = None
    runtimes: tuple[str, ...] = ()
    """Those a reader may switch to, ``runtime`` first."""
    configured: str | None = None
    """The runtime the project configures, when the page starts on another here: ``livecells
    serve`` starts a Binder page (MyST's ``jupyter: true``) on its own kernels, and says so."""
    kernel_name: str = "python3"
    base_url: str = "/"
    server: ServerSettings | None = None
    binder: BinderSettings | None = None
    auto_run: bool = True
    session_saving: bool = True
    session_max_age: int = SESSION_MAX_AGE
    trusted: bool = False
    allow_reader_server: bool = False
    """The reader may name a Jupyter Server (or BinderHub) of their own: the page's CSP then
    lets it connect anywhere."""
    allow_widget_esm: bool = field(default=False, metadata={"json": "allowWidgetESM"})
    """anywidget widgets may run the ES modules they carry: the page's CSP then allows
    ``blob:`` scripts (the modules are imported from blob URLs)."""
    math: MathSettings = MathSettings()
    static_url: str = "_livecells/"
    open_in_jupyter: str | None = None
    path: str | None = None
    watch: bool = False
    pyodide: PyodideSettings | None = None
    cells: CellMarkup | None = None

    def offers(self, runtime: str) -> bool:
        return runtime in self.runtimes

    def to_json(self) -> dict[str, Any]:
        """The client's ``PageConfig``: camelCase names, JSON values."""
        data: dict[str, Any] = _json(self)
        return data


def page_config(
    jupyter: Jupyter,
    *,
    default_runtime: str,
    auto_run: bool,
    trusted: bool,
    kernel_name: str | None,
    runtime: str | None = None,
    runtimes: Sequence[str] | None = None,
    language: str = "python",
    allow_reader_server: bool = False,
    allow_widget_esm: bool = False,
) -> PageConfig:
    """A page's config from its effective ``jupyter`` settings and livecells options.

    ``default_runtime`` is the context's: ``livecells`` under ``livecells serve`` (which then
    also starts Binder pages on its own kernels, offering Binder beside them), else what a page
    that configures no runtime uses. ``runtime`` (``livecells.runtime``) overrides both; the
    page's own kernelspec ``kernel_name`` is used unless ``kernelName`` is configured.
    ``runtimes`` (``livecells.runtimes``) are those the reader may switch to; by default the
    chosen one, then every other the configuration asks for: the serving livecells (when
    served), Pyodide (for Python, when ``lite`` is configured or no runtime is), a Jupyter
    Server the reader names, and Binder when a repository is configured. Pyodide is not
    offered beside a Binder or server page unasked: their ``requirements.txt`` describes the
    Binder image or the server, not wheels for the browser.
    A server of the reader's own (``server`` with none configured, or another than the one
    configured) only with ``allow_reader_server`` (``livecells.allowReaderServer``).
    ``allow_widget_esm`` (``livecells.allowWidgetESM``): anywidget widgets run their modules.
    """
    chosen = configured = None
    if jupyter.enabled:
        chosen = runtime or jupyter.runtime or default_runtime
        if runtime is None and default_runtime == "livecells" and chosen == "binder":
            chosen, configured = "livecells", "binder"
    math = MathSettings()
    if jupyter.mathjax_url:
        math = MathSettings("mathjax", jupyter.mathjax_url, jupyter.mathjax_config)
    binder = jupyter.binder or (Binder() if chosen == "binder" else None)
    if binder is not None:
        binder = binder_with_repo(binder, None)
    if runtimes is None:
        pyodide = jupyter.lite or jupyter.runtime is None or chosen == "pyodide"
        runtimes = [
            name
            for name in PAGE_RUNTIMES
            if (name == "livecells" and default_runtime == "livecells")
            or (name == "pyodide" and language.lower() == "python" and pyodide)
            or name == "server"
            or (name == "binder" and binder is not None and binder.repo)
        ]
    if not (jupyter.server or allow_reader_server):
        runtimes = [name for name in runtimes if name != "server"]
    offered = [chosen] if chosen else []
    offered += [name for name in runtimes if name not in offered]
    return PageConfig(
        runtime=chosen,
        runtimes=tuple(offered) if chosen else (),
        configured=configured,
        kernel_name=jupyter.kernel_name or kernel_name or "python3",
        server=ServerSettings(jupyter.server.url, jupyter.server.token) if jupyter.server else None,
        binder=BinderSettings(binder.repo, binder.ref, binder.url, binder.provider)
        if binder
        else None,
        auto_run=auto_run,
        session_saving=jupyter.session_saving,
        trusted=trusted,
        allow_reader_server=allow_reader_server,
        allow_widget_esm=allow_widget_esm,
        math=math,
    )


def pyodide_settings(options: Mapping[str, Any], packages: Sequence[str]) -> PyodideSettings:
    """The Pyodide settings of a page from its validated ``livecells.pyodide`` options."""
    settings = options.get("pyodide") or {}
    urls = settings.get("indexURL", settings.get("src"))
    return PyodideSettings(
        index_urls=(urls,) if isinstance(urls, str) else tuple(urls or ()),
        timeout_ms=settings.get("timeoutMs", PYODIDE_TIMEOUT_MS),
        packages=tuple(packages),
        autoload_imports=settings.get("autoloadImports", True),
        figure_formats=tuple(settings.get("figureFormats", ["svg"])),
        preload=settings.get("preload", True),
        snapshot=settings.get("snapshot", True),
    )


def served(config: PageConfig, by: Served, *, path: str) -> PageConfig:
    """``config`` as ``livecells serve`` gives it for the page at ``path``."""
    jupyter = by.open_in_jupyter + path if by.open_in_jupyter else None
    auto_run = config.auto_run if by.auto_run is None else by.auto_run
    return replace(
        config, base_url=by.base_url, open_in_jupyter=jupyter, watch=by.watch, auto_run=auto_run
    )


def _json(value: object) -> Any:
    if isinstance(value, MathSettings):
        return value.to_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {
            item.metadata.get("json", _camel(item.name)): _json(getattr(value, item.name))
            for item in fields(value)
        }
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return value


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
