"""The pages a site is made of: notebooks (``.ipynb``), MyST Markdown notebooks (``.md``
with ``{code-cell}`` blocks, read through jupytext) and plain Markdown pages.

A :class:`Page` is what rendering needs: title, frontmatter, and cells with their stored
outputs. Frontmatter comes, as in MyST, from the YAML block at the top of a Markdown file or of
a notebook's first Markdown cell. Every problem is a :class:`~livecells.errors.NotebookError`
whose message starts with the path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from livecells.errors import NotebookError
from livecells.notebooks import MYST_MARKER, read_notebook, split_frontmatter, walk

__all__ = ["Cell", "Page", "find_pages", "page_url", "read_page", "split_frontmatter"]

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass
class Cell:
    """One cell: Markdown prose, code (with the outputs stored in the file) or raw."""

    kind: Literal["markdown", "code", "raw"]
    source: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    tags: tuple[str, ...] = ()
    figure: dict[str, str] | None = None
    """MyST-NB's ``mystnb: figure:`` of a code cell: its outputs are a figure (``caption``,
    ``name``)."""


@dataclass
class Page:
    """A document of the site, as rendering sees it."""

    path: Path
    """Relative to the site's root, with ``/`` separators."""
    title: str
    frontmatter: dict[str, Any]
    cells: list[Cell]
    kernel_name: str | None = None
    language: str = "python"
    widget_state: Any = None
    """A notebook's saved widget state (``metadata.widgets``' widget-state JSON), unchecked."""

    @property
    def has_code(self) -> bool:
        return any(cell.kind == "code" for cell in self.cells)


def find_pages(root: Path) -> list[Path]:
    """Every page under ``root`` (relative paths, sorted): ``.ipynb`` and ``.md`` files, hidden
    directories and build outputs skipped."""
    return sorted(_walk(root), key=lambda path: path.as_posix())


def _walk(root: Path) -> Iterator[Path]:
    for path in walk(root):
        if path.suffix.lower() in (".ipynb", ".md") and not path.name.endswith(".livecells-tmp"):
            yield path.relative_to(root)


def page_url(path: Path) -> str:
    """The page's URL relative to the site's root: ``a/b.ipynb`` -> ``a/b.html``."""
    return path.with_suffix(".html").as_posix()


def read_page(root: Path, path: Path) -> Page:
    """Read ``root / path`` as a page."""
    full = root / path
    frontmatter: dict[str, Any] | None = None
    if path.suffix.lower() == ".md":
        try:
            text = full.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NotebookError(f"{path}: cannot read it: {exc}") from None
        frontmatter, body, error = split_frontmatter(text)
        if error:
            raise NotebookError(f"{path}: {error}")
        if MYST_MARKER not in body:
            cells = [Cell("markdown", body)]
            return Page(path, _title(frontmatter, cells, path), frontmatter, cells)
    try:
        notebook = read_notebook(full)
    except NotebookError as exc:
        raise NotebookError(str(exc).replace(str(full), str(path), 1)) from None
    page = _from_notebook(path, notebook)
    if frontmatter is not None:  # a MyST file's own frontmatter, whole
        page.frontmatter = frontmatter
        page.title = _title(frontmatter, page.cells, path)
    return page


def _from_notebook(path: Path, notebook: Any) -> Page:
    metadata = notebook.get("metadata", {})
    frontmatter: dict[str, Any] = {}
    cells: list[Cell] = []
    for index, raw in enumerate(notebook.get("cells", [])):
        kind = raw.get("cell_type", "raw")
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        tags = tuple(raw.get("metadata", {}).get("tags", []))
        if kind == "markdown":
            if index == 0:
                found, body, error = split_frontmatter(source)
                if error:
                    raise NotebookError(f"{path}: {error}")
                frontmatter, source = found, body
            cells.append(Cell("markdown", source, tags=tags))
        elif kind == "code":
            outputs = [dict(output) for output in raw.get("outputs", [])]
            figure = _mystnb_figure(raw.get("metadata", {}))
            cells.append(Cell("code", source, outputs, raw.get("execution_count"), tags, figure))
        else:
            cells.append(Cell("raw", source, tags=tags))
    # jupytext keeps a MyST file's frontmatter (kernelspec and any other key) as metadata
    for key, value in metadata.items():
        if key not in ("kernelspec", "language_info", "jupytext", "widgets"):
            frontmatter.setdefault(key, value)
    spec = metadata.get("kernelspec") or {}
    language = spec.get("language") or metadata.get("language_info", {}).get("name") or "python"
    return Page(
        path,
        _title(frontmatter, cells, path),
        frontmatter,
        cells,
        kernel_name=spec.get("name"),
        language=str(language),
        widget_state=(metadata.get("widgets") or {}).get(WIDGET_STATE_MIME)
        if isinstance(metadata.get("widgets"), dict)
        else None,
    )


def _title(frontmatter: dict[str, Any], cells: list[Cell], path: Path) -> str:
    title = frontmatter.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    for cell in cells:
        if cell.kind == "markdown":
            match = HEADING.search(cell.source)
            if match:
                return match.group(1).strip()
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or path.name


def _mystnb_figure(metadata: Any) -> dict[str, str] | None:
    """A code cell's ``mystnb: {figure: {caption, name}}`` (MyST-NB; ``{code-cell}`` options
    reach the cell's metadata through jupytext), its values as text; ``None`` without."""
    mystnb = metadata.get("mystnb") if isinstance(metadata, dict) else None
    figure = mystnb.get("figure") if isinstance(mystnb, dict) else None
    if not isinstance(figure, dict):
        return None
    return {key: str(figure[key]) for key in ("caption", "name") if figure.get(key) is not None}
