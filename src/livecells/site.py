"""A folder as a website: its project config, its pages in order, their navigation, and
``livecells build``, which writes it all out as static files any host serves.

The same :class:`Site` renders for ``livecells serve`` (on request, re-reading a file when it
changes) and for ``livecells build`` (every page once). URLs inside pages are relative, so a
built site works under any path prefix.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecells.assets import STATIC_DIR, head_for
from livecells.config import (
    PROJECT_FILES,
    Jupyter,
    Project,
    TocEntry,
    load_project,
    page_settings,
)
from livecells.errors import ConfigError, NotebookError
from livecells.myst.html import Links
from livecells.myst.project import ASSETS as MYST_ASSETS
from livecells.myst.project import MystProject, MystResult
from livecells.notebooks import walk
from livecells.pageconfig import PageConfig, Served, page_config, pyodide_settings, served
from livecells.pagefiles import PageFiles
from livecells.pages import Page, find_pages, page_url, read_page
from livecells.render import render_page, title_text
from livecells.site_execution import Execution, execute_pages, execute_requested
from livecells.wheels import (
    DEFAULT_TIMEOUT,
    LOCK_NAME,
    client_requirement,
    fetch_wheels,
    read_requirements,
    requirement_name,
    widget_requirements,
)

if TYPE_CHECKING:
    from livecells.batch import BatchOptions
    from livecells.reports import Progress

__all__ = ["STATIC_DIR", "Built", "Site", "build"]

"""The built browser client (``npm run build`` in ``frontend/``, run by the package build)."""
RESCAN_AFTER = 0.2
"""Seconds a look at the folder (has a file changed? then mystmd runs again) stays current."""
ASSETS = "_livecells"
"""Where a site keeps the client's files, relative to its root."""
HEADERS = """\
# Response headers for hosts that read a _headers file (Netlify, Cloudflare Pages), written by
# livecells build. Cross-origin isolation lets Pyodide interrupt a running cell and answer
# input(); without it, "interrupt" restarts Python and input() explains why it cannot ask.
/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: same-origin
  X-Content-Type-Options: nosniff
/_livecells/*
  Cache-Control: public, max-age=86400
/_livecells/pyodide/*
  Cache-Control: public, max-age=604800
"""


@dataclass
class _Cached:
    mtime: float
    page: Page


class Site:
    """The pages under ``root`` with the project's configuration.

    ``default_runtime`` is the runtime of pages whose configuration chooses none (no project
    file, or a ``livecells.yml`` without ``jupyter``): ``livecells`` when served (the server's
    own kernels, which then also run Binder pages, MyST's ``jupyter: true``), ``pyodide`` for
    a static build. ``served`` is what a serving ``livecells serve`` adds to every page's
    config.
    """

    def __init__(
        self,
        root: Path,
        *,
        default_runtime: str,
        served: Served | None = None,
    ) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise ConfigError(f"{root}: not a directory")
        self.default_runtime = default_runtime
        self.served = served
        self.csp = False
        """Give pages a Content-Security-Policy (static builds; a server sets its own)."""
        self.switchable: frozenset[str] | None = None
        """The runtimes a reader may switch to on every page (None: what the pages offer)."""
        self.wheels = False
        """True once the site's wheels and their lock file are under ``_livecells/wheels/``."""
        self.files = PageFiles(self.root)
        """The files Pyodide pages may read (their folders' listings)."""
        self.wheels_preparing = False
        """True while ``livecells serve`` resolves them: pages that need them say so."""
        self._cache: dict[Path, _Cached] = {}
        self._project_stamp: tuple[float, ...] | None = None
        self._project: Project | None = None
        self.output: Path | None = None
        """A build's output folder, when it is inside ``root`` (mystmd must not read it)."""
        self._myst: MystProject | None = None
        self._myst_result: MystResult | None = None
        self._myst_checked = 0.0
        self.warnings: dict[Path | None, list[str]] = {}
        """What mystmd (under ``None``) and the renderer (per page) warned about."""
        self._told: dict[Path, set[str]] = {}

    # -- the project and its pages ------------------------------------------------------------

    @property
    def project(self) -> Project:
        """The project config, read again when its file changes."""
        stamp = tuple(_mtime(self.root / name) for name in PROJECT_FILES)
        if self._project is None or stamp != self._project_stamp:
            self._project = load_project(self.root)
            self._project_stamp = stamp
        return self._project

    def myst(self, *, fresh: bool = False) -> MystResult:
        """What mystmd makes of the folder now (run again when a file changed); ``fresh``
        looks at the folder again even if it just did."""
        if self._myst is None:
            self._myst = MystProject(self.root, skip=self.output)
        # One look at the folder serves a whole render (the navigation asks for every title).
        now = time.monotonic()
        if fresh or self._myst_result is None or now - self._myst_checked > RESCAN_AFTER:
            self._myst_result = self._myst.result()
            self._myst_checked = time.monotonic()
            self.warnings[None] = self._myst_result.warnings
        return self._myst_result

    def untold_warnings(self, path: Path) -> list[str]:
        """The page's warnings (the renderer's, and mystmd's about its file) not told yet:
        ``livecells serve`` prints each once, and again if it went away and came back."""
        prefix = f"{path.as_posix()}:"
        mystmd = [w for w in self.warnings.get(None, []) if w.startswith(prefix)]
        current = [*mystmd, *self.warnings.get(path, [])]
        told = self._told.get(path, set())
        self._told[path] = set(current)
        return [warning for warning in current if warning not in told]

    def check(self) -> None:
        """What mystmd would read is inside the folder (ConfigError naming file and entry)."""
        if self._myst is None:
            self._myst = MystProject(self.root, skip=self.output)
        self._myst.prepare()

    def mystmd_started(self, timeout: float) -> bool:
        """Whether mystmd has been started (by :meth:`myst`, in another thread), waiting up
        to ``timeout`` seconds."""
        return self._myst is not None and self._myst.started.wait(timeout)

    def watch(self) -> None:
        """Serve mode: mystmd watches its copy of the folder and rewrites an edited page's AST
        at once (:meth:`MystProject.watch`)."""
        if self._myst is None:
            self._myst = MystProject(self.root, skip=self.output)
        self._myst.watch()

    def content_stamp(self, path: Path) -> float:
        """When the page's AST was last written (what an open page waits for to reload)."""
        return self._myst.content_stamp(path) if self._myst is not None else -1.0

    def close(self) -> None:
        """Remove mystmd's private copy of the folder."""
        if self._myst is not None:
            self._myst.close()

    def pages(self) -> list[Path]:
        """Every page mystmd read: those in the table of contents first, in its order, then
        the rest in mystmd's (its index first)."""
        found = self.myst().order
        ordered = [entry for entry in _files(self.project.toc or ()) if entry in found]
        return ordered + [path for path in found if path not in ordered]

    def read(self, path: Path) -> Page:
        """The page at ``path`` (relative to the root), re-read when its file changed."""
        mtime = _mtime(self.root / path)
        cached = self._cache.get(path)
        if cached is None or cached.mtime != mtime:
            cached = _Cached(mtime, read_page(self.root, path))
            self._cache[path] = cached
        return cached.page

    def use(self, path: Path, page: Page) -> None:
        """Render ``path`` as ``page`` (an executed copy) until its file changes."""
        self._cache[path] = _Cached(_mtime(self.root / path), page)

    def find(self, url: str) -> Path | None:
        """The page a URL path (``a/b.html``, ``a/b.ipynb``, ``""`` for the index) names."""
        url = url.strip("/") or "index.html"
        pages = self.pages()
        for path in [*pages, *find_pages(self.root)]:  # a page mystmd could not read: its error
            if url in (page_url(path), path.as_posix()):
                return path
        return pages[0] if pages and url == "index.html" else None

    def title_of(self, path: Path) -> str:
        """The page's title as plain text (mystmd's, from frontmatter or first heading)."""
        found = self.myst().pages.get(path)
        return title_text(found.title) if found is not None else path.stem

    # -- rendering ------------------------------------------------------------------------

    def render(self, path: Path, *, at: Path | None = None) -> str:
        """The HTML of the page at ``path``; ``at`` is where it is served from, when that is
        not its own URL (the index)."""
        project = self.project
        result = self.myst()
        page = self.read(path)
        if path not in result.pages:  # a page newer than the last look at the folder
            result = self.myst(fresh=True)
        myst = result.pages.get(path)
        if myst is None:
            raise NotebookError(f"{path}: mystmd did not read this page (see its warnings)")
        location = at if at is not None else Path(page_url(path))
        root_url = "../" * (len(location.parts) - 1)
        jupyter, options = page_settings(project, page.frontmatter, page=path.as_posix())
        config = self._config(page, jupyter, options)
        if config.offers("pyodide"):
            wanted = [client_requirement(r) for r in self.requirements(path, options)]
            pyodide = pyodide_settings(options, wanted)
            files_url = f"{root_url}{ASSETS}/{self.files.offer(path)}"
            pyodide = replace(pyodide, files_url=files_url)
            if self.wheels:
                lock = f"{root_url}{ASSETS}/wheels/{LOCK_NAME}"
                pyodide = replace(pyodide, lock_file_url=lock)
            elif self.wheels_preparing and (wanted or _imports_widgets(page)):
                pyodide = replace(pyodide, preparing=True)
            config = replace(config, pyodide=pyodide)
        if self.served is not None:
            config = served(config, self.served, path=path.as_posix())
        config = replace(config, path=path.as_posix(), static_url=root_url + ASSETS + "/")
        head = head_for(STATIC_DIR, config.static_url, config, csp=self.csp)
        if head is not None and head.katex_integrity and config.math.engine == "katex":
            config = replace(config, math=replace(config.math, integrity=head.katex_integrity))
        order = self.pages()
        index = order.index(path) if path in order else -1
        previous = order[index - 1] if index > 0 else None
        following = order[index + 1] if 0 <= index < len(order) - 1 else None
        warnings: list[str] = []
        links = Links(result.page_urls(), root_url, MYST_ASSETS + "/")
        html = render_page(
            page,
            myst=myst,
            links=links,
            config=config,
            root_url=root_url,
            # a Jupyter Book 1 project's title is in _config.yml, which mystmd upgraded
            site_title=project.title if project.source else result.title or project.title,
            nav=self._nav(project.toc, order, path, root_url),
            previous=self._link(previous, root_url),
            following=self._link(following, root_url),
            head=head,
            warnings=warnings,
        )
        self.warnings[path] = warnings
        return html

    def _config(self, page: Page, jupyter: Jupyter, options: Mapping[str, Any]) -> PageConfig:
        """The configured part of a page's ``PageConfig``."""
        project = self.project
        config = page_config(
            jupyter,
            default_runtime=self.default_runtime,
            auto_run=bool(options.get("autoRun", project.auto_run)),
            trusted=bool(options.get("trusted", project.trusted)),
            kernel_name=page.kernel_name,
            runtime=options.get("runtime"),
            runtimes=options.get("runtimes"),
            language=page.language,
            allow_reader_server=bool(options.get("allowReaderServer")),
            allow_widget_esm=bool(options.get("allowWidgetESM")),
        )
        if not page.has_code:
            return replace(config, runtime=None, runtimes=())
        if self.switchable is not None:
            allowed = self.switchable | {config.runtime}
            config = replace(config, runtimes=tuple(n for n in config.runtimes if n in allowed))
        return config

    def requirements(self, path: Path, options: Mapping[str, Any]) -> dict[str, str]:
        """What a Pyodide page installs: ``livecells.packages`` and the ``requirements.txt``
        beside the page, each with where it was asked for."""
        wanted = dict.fromkeys(options.get("packages") or [], "livecells.packages")
        beside = self.root / path.parent / "requirements.txt"
        if beside.is_file():
            where = beside.relative_to(self.root).as_posix()
            wanted.update({r: where for r in read_requirements(beside) if r not in wanted})
        return wanted

    def pyodide_requirements(self) -> dict[str, str]:
        """Every requirement of every page that offers Pyodide (what a build fetches wheels
        for), each with the file that asked for it; Binder and server pages ask for none."""
        found: dict[str, str] = {}
        for path in self.pages():
            try:
                page = self.read(path)
                jupyter, options = page_settings(
                    self.project, page.frontmatter, page=path.as_posix()
                )
            except (ConfigError, NotebookError):
                continue  # reported when the page is rendered
            if self._config(page, jupyter, options).offers("pyodide"):
                for requirement, where in self.requirements(path, options).items():
                    found.setdefault(requirement, where)
                for widgets in _imports_widgets(page):
                    name = requirement_name(widgets)
                    if not any(requirement_name(r) == name for r in found):
                        found[widgets] = path.as_posix()
        return found

    def _link(self, path: Path | None, root_url: str) -> dict[str, str] | None:
        if path is None:
            return None
        return {"title": self.title_of(path), "url": root_url + page_url(path)}

    def _nav(
        self,
        toc: tuple[TocEntry, ...] | None,
        order: list[Path],
        current: Path,
        root_url: str,
    ) -> list[dict[str, Any]]:
        if toc is None:
            return [
                {
                    "title": self.title_of(path),
                    "url": root_url + page_url(path),
                    "current": path == current,
                    "children": [],
                }
                for path in order
            ]
        return [self._nav_entry(entry, current, root_url) for entry in toc]

    def _nav_entry(self, entry: TocEntry, current: Path, root_url: str) -> dict[str, Any]:
        children = [self._nav_entry(child, current, root_url) for child in entry.children]
        if entry.file is not None:
            return {
                "title": entry.title or self.title_of(entry.file),
                "url": root_url + page_url(entry.file),
                "current": entry.file == current,
                "children": children,
            }
        return {"title": entry.title or entry.url or "", "url": entry.url, "children": children}


def _files(entries: tuple[TocEntry, ...]) -> Iterator[Path]:
    for entry in entries:
        if entry.file is not None:
            yield entry.file
        yield from _files(entry.children)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


# -- livecells build ------------------------------------------------------------------------


@dataclass
class Built:
    """What :func:`build` wrote, and the pages it could not (each problem one line)."""

    pages: list[Path]
    problems: list[str]
    execution: Execution | None = None
    """What executing the pages did (``livecells build --execute``)."""
    warnings: list[str] = field(default_factory=list)
    """mystmd's and the renderer's warnings, one line each (``file:line: message``)."""


def build(
    root: Path,
    output: Path,
    *,
    default_runtime: str = "pyodide",
    execute: BatchOptions | None = None,
    progress: Progress | None = None,
) -> Built:
    """Write the site for ``root`` into ``output``: every page as HTML, ``index.html`` (the
    first page), the client's files under ``_livecells/``, and every other file of the folder
    (images, data) as it is. A page that cannot be read is reported and the others are
    written. Raises ConfigError for a bad project config or a missing client build.

    With ``execute`` (batch options), or ``livecells.execute`` in the project config, the pages
    are executed first (:mod:`livecells.site_execution`) and rendered with fresh outputs."""
    if not (STATIC_DIR / "livecells.js").is_file():
        raise ConfigError(
            f"the browser client is not built ({STATIC_DIR} is empty): run `npm ci && npm run "
            "build` in frontend/, or reinstall livecells with Node.js available"
        )
    output = output.resolve()
    _check_links(root.resolve(), output)
    site = Site(root, default_runtime=default_runtime)
    site.csp = True
    site.files = PageFiles(site.root, skip=[output])
    site.output = output
    try:
        return _build(site, output, execute, progress)
    finally:
        site.close()


def _imports_widgets(page: Page) -> list[str]:
    """The requirements that bring Jupyter widgets to Pyodide, when the page's code imports
    ipywidgets or anywidget (their wheels come with the site's; Pyodide loads them on the
    import)."""
    return widget_requirements(cell.source for cell in page.cells if cell.kind == "code")


def _build(
    site: Site, output: Path, execute: BatchOptions | None, progress: Progress | None
) -> Built:
    root = site.root
    # mystmd runs in its own process: the pages' cells are read (jupytext) meanwhile
    site.check()  # the copy and its checks, here; mystmd's run, in the thread
    with ThreadPoolExecutor(1) as pool:
        parsing = pool.submit(site.myst)
        while not parsing.done() and not site.mystmd_started(0.05):
            pass
        for path in find_pages(root):
            with contextlib.suppress(NotebookError):
                site.read(path)
        parsing.result()
    pages = site.pages()
    if not pages:
        raise ConfigError(f"{root}: no pages (.ipynb or .md files) to build")
    output.mkdir(parents=True, exist_ok=True)
    built = Built([], [])
    if execute is not None or execute_requested(site.project.options):
        built.execution = execute_pages(site, execute, progress=progress)
        built.problems += built.execution.problems
    requirements = site.pyodide_requirements()
    if requirements:
        wheels = fetch_wheels(
            list(requirements),
            output / ASSETS / "wheels",
            timeout=site.project.options.get("wheelsTimeout", DEFAULT_TIMEOUT),
            sources=requirements,
        )
        built.problems += wheels.problems
        site.wheels = True
    for path in find_pages(root):
        if path not in pages:  # mystmd could not read it (or a toc leaves it out)
            try:
                read_page(root, path)
            except NotebookError as exc:
                built.problems.append(str(exc))
    for path in pages:
        try:
            html = site.render(path)
        except (ConfigError, NotebookError) as exc:
            built.problems.append(str(exc))
            continue
        target = output / page_url(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        if not built.pages:
            (output / "index.html").write_text(site.render(path, at=Path("index.html")), "utf-8")
        built.pages.append(path)
    built.problems += site.files.write(output / ASSETS, site.project)
    shutil.copytree(STATIC_DIR, output / ASSETS, dirs_exist_ok=True, ignore=_server_only)
    result = site.myst()
    if result.public.is_dir():
        unpublished = functools.partial(_unpublished, result)
        shutil.copytree(result.public, output / MYST_ASSETS, dirs_exist_ok=True, ignore=unpublished)
    for found in site.warnings.values():
        built.warnings += [warning for warning in found if warning not in built.warnings]
    _copy_assets(site.root, output, set(pages))
    if not (site.root / "_headers").exists():
        (output / "_headers").write_text(HEADERS, encoding="utf-8")
    return built


def _unpublished(result: MystResult, directory: str, names: list[str]) -> list[str]:
    """mystmd's copies of the pages' sources are not published, but for downloads."""
    return [name for name in names if not result.published(name)]


def _server_only(directory: str, names: list[str]) -> list[str]:
    """The Node.js host of the Pyodide runtime is for ``livecells run``, not for sites."""
    return [name for name in names if name.startswith("pyodide-node")]


def _check_links(root: Path, output: Path) -> None:
    """Refuse symbolic links a build would follow out of ``root`` (copying, say, a file of the
    author's home into a public site) or could not follow at all (a link to itself, a loop, a
    missing target): ConfigError, one line naming the link."""
    for link in walk(root, skip=(output,), folders=True):
        if link.is_symlink():
            relative = link.relative_to(root)
            try:
                target = link.resolve(strict=True)
            except (OSError, RuntimeError):  # RuntimeError: a loop, before Python 3.13
                raise ConfigError(
                    f"{relative}: a symbolic link that cannot be followed (it points at itself, "
                    "loops or its target is missing): remove it or point it at a file in the "
                    "folder"
                ) from None
            if not target.is_relative_to(root):
                raise ConfigError(
                    f"{relative}: a symbolic link to {target}, outside {root}: a build copies "
                    "only what is inside the folder; copy the file in instead of linking to it"
                )


def _copy_assets(root: Path, output: Path, pages: set[Path]) -> None:
    for source in walk(root, skip=(output,)):
        relative = source.relative_to(root)
        if relative in pages or source.name in PROJECT_FILES:
            continue
        target = output / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
