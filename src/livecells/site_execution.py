"""Executing a site's pages before they are rendered (``livecells build --execute``), so the
static site shows fresh outputs.

The pages with code run as one batch (:mod:`livecells.batch`: local kernels, in parallel, with
the execution cache when one is given), each in its own folder; the executed copies replace the
pages' stored outputs for this build only, and the sources are left as they are. A page that
fails is a problem of the build, named with its cell and error, unless errors are allowed: by
the cell's ``raises-exception`` tag, or by ``livecells.execute.allow_errors`` in the project
config or the page's frontmatter. A page's ``livecells: {execute: false}`` keeps its stored
outputs.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecells.batch import BatchOptions, run_many
from livecells.config import execute_settings, page_settings
from livecells.errors import ConfigError, NotebookError
from livecells.notebooks import MYST_MARKER
from livecells.pages import read_page
from livecells.reports import BatchReport, NotebookReport, Progress

if TYPE_CHECKING:
    from livecells.site import Site

__all__ = ["Execution", "execute_pages", "execute_requested"]


@dataclass
class Execution:
    """What executing a site's pages did: the batch's report and a line per failed page."""

    report: BatchReport = field(default_factory=BatchReport)
    problems: list[str] = field(default_factory=list)


def execute_requested(project_options: Mapping[str, Any]) -> bool:
    """True when the project config asks for execution at build time (``execute: true`` or a
    mapping)."""
    value = project_options.get("execute")
    return value is True or isinstance(value, dict)


def execute_pages(
    site: Site, options: BatchOptions | None = None, *, progress: Progress | None = None
) -> Execution:
    """Run every page of ``site`` (a :class:`livecells.site.Site`) that has code and give the
    site the executed copies to render. ``options`` are the batch's (jobs, cache, timeout...);
    the project's and each page's ``livecells.execute`` settings apply over them."""
    base = options or BatchOptions()
    project = site.project
    configured = execute_settings(project.options) or {}
    if base.cache is None and configured.get("cache"):
        base = replace(base, cache=site.root / configured["cache"])
    groups: dict[tuple[bool, float | None], list[Path]] = {}
    for path in site.pages():
        settings = _settings(site, path)
        if settings is None:
            continue
        allow = bool(settings.get("allow_errors", base.allow_errors))
        timeout = settings.get("timeout", base.timeout)
        groups.setdefault((allow, timeout), []).append(path)
    execution = Execution()
    with tempfile.TemporaryDirectory(prefix="livecells-build-") as work:
        for (allow, timeout), paths in groups.items():
            chosen = replace(
                base,
                allow_errors=allow,
                timeout=timeout,
                output_dir=Path(work),
                inplace=False,
                runtime="local",
            )
            sources = [site.root / path for path in paths]
            report = asyncio.run(run_many(sources, chosen, progress=progress))
            execution.report.notebooks += report.notebooks
            execution.report.duration += report.duration
            for item in report.notebooks:
                page = item.source.relative_to(site.root)
                if item.output is not None and item.output.is_file():
                    _use(site, page, item.output)
                if item.status in ("failed", "error", "interrupted"):
                    execution.problems.append(_problem(page, item))
    return execution


def _settings(site: Site, path: Path) -> dict[str, Any] | None:
    """The page's execute settings, or None when it is not to be run (no code, switched off,
    or unreadable: rendering reports that)."""
    if path.suffix.lower() == ".md":
        try:
            text = (site.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if MYST_MARKER not in text:
            return None
    try:
        page = site.read(path)
        page_settings(site.project, page.frontmatter, page=path.as_posix())  # validates
    except (ConfigError, NotebookError):
        return None
    if not page.has_code:
        return None
    own = page.frontmatter.get("livecells") or {}
    if "execute" in own:  # the page's word is final: false keeps its stored outputs
        return execute_settings(own)
    return execute_settings(site.project.options) or {}  # --execute beats the project's false


def _use(site: Site, page: Path, copy: Path) -> None:
    """Render ``page`` from its executed ``copy``: its cells and outputs, the source's
    frontmatter and title."""
    source = site.read(page)
    executed = read_page(copy.parent, Path(copy.name))
    executed.path = source.path
    executed.frontmatter = source.frontmatter
    executed.title = source.title
    site.use(page, executed)


def _problem(page: Path, item: NotebookReport) -> str:
    if item.failure is not None:
        return f"{page}: execution failed: {item.failure.describe()}"
    return f"{page}: {item.message.removeprefix(f'{item.source}: ') or item.status}"
