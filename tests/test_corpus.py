"""Real books, built as their authors would build them: three public MyST / Jupyter Book
projects (tests/corpus/*, trimmed, each with its licence and a SOURCE.md saying what was kept),
each built once with ``livecells build`` and read back as a reader's browser would get it.

What a reader must never meet: a heading without an anchor, a MyST role or a ``(label)=``
target printed as text, a link to a page or anchor that is not there (or with no text), an
image that was not copied, content tagged ``remove-*``, content tagged ``hide-*`` shown open, a
``<title>`` with markup in it, a Jupyter Book 1 project with the wrong title or first page. And
the author's folder is left exactly as it was: a build writes only into its output.

``GAPS`` lists the (check, project) pairs the renderer does not pass yet, each with what it
does instead; they run as strict expected failures, so the day the renderer passes one, the
suite says so and the entry goes.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup, Tag

from livecells.notebooks import read_notebook

CORPUS = Path(__file__).parent / "corpus"
PROJECTS = ["mystmd-docs", "jupyter-book-v1-docs", "pythia-foundations"]
ROLE = re.compile(r"\{[a-z][\w:-]*\}(?:`|\s*\x00code\x00)")
TARGET = re.compile(r"^\s*\([\w.:-]+\)=\s*$", re.M)
"""A ``(label)=`` line printed as text (in math, ``f(p)=`` is no target)."""
DIRECTIVE = re.compile(r"^(```|:::)\{[a-z][\w:-]*\}", re.M)
REMOVE = {"remove-cell", "remove-input"}
HIDE = {"hide-cell", "hide-input"}


@dataclass
class Built:
    name: str
    source: Path
    site: Path
    returncode: int
    stderr: str
    before: dict[str, str]
    after: dict[str, str]

    def pages(self) -> Iterator[tuple[Path, BeautifulSoup]]:
        for path in sorted(self.site.rglob("*.html")):
            if "_livecells" not in path.parts:
                yield path, BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def tree_hash(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module", params=PROJECTS)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    name: str = request.param
    source = CORPUS / name
    site = tmp_path_factory.mktemp(name) / "site"
    before = tree_hash(source)
    command = [sys.executable, "-m", "livecells", "build", str(source), "-o", str(site)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    return Built(name, source, site, done.returncode, done.stderr, before, tree_hash(source))


GAPS: dict[tuple[str, str], str] = {}
"""(check, project) -> what the renderer does instead. Each runs as a strict expected failure:
it must fail while listed, so an entry goes as soon as the renderer passes it."""


def known_gap(request: pytest.FixtureRequest, check: str, built: Built) -> None:
    """Run the check anyway: it must fail while the gap is listed (strict), and pass once not."""
    reason = GAPS.get((check, built.name))
    if reason is not None:
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))


CODE = "\x00code\x00"
"""Where inline code stood in :func:`prose`: a role printed raw is its name before code."""


def prose(soup: BeautifulSoup, separator: str = " ") -> str:
    """The page's text as a reader sees it: code blocks, scripts and cells left out, inline
    code as :data:`CODE`; elements' texts joined by ``separator``."""
    main = soup.find("main")
    assert isinstance(main, Tag), "the page has no <main>"
    main = BeautifulSoup(str(main), "html.parser")
    for block in main.find_all(["pre", "script", "style"]):
        block.decompose()
    for cell in main.select(".lc-cell"):
        cell.decompose()
    for code in main.find_all("code"):
        code.replace_with(CODE)
    return str(main.get_text(separator))


def raw_directives(soup: BeautifulSoup) -> list[str]:
    """Directives that reached the page as code blocks (```{note} as a `language-{note}`)."""
    return [
        str(cls)
        for element in soup.select("main [class]")
        for cls in element.get("class") or []
        if str(cls).startswith("language-{")
    ]


# -- the build ------------------------------------------------------------------------------


def test_the_project_builds_without_errors(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "builds", built)
    assert built.returncode == 0, built.stderr[-3000:]


def test_the_build_writes_nothing_into_the_source_folder(built: Built) -> None:
    assert built.after == built.before


# -- what a reader meets --------------------------------------------------------------------


def test_every_heading_has_an_id(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "heading ids", built)
    missing = [
        f"{path.name}: {heading.get_text(strip=True)!r}"
        for path, soup in built.pages()
        for heading in soup.select("main h1, main h2, main h3, main h4, main h5, main h6")
        if not heading.get("id")
    ]
    assert missing == []


def test_no_myst_role_or_directive_is_printed_raw(
    built: Built, request: pytest.FixtureRequest
) -> None:
    known_gap(request, "raw roles", built)
    raw = [
        f"{path.name}: {match!r}"
        for path, soup in built.pages()
        for match in [
            *ROLE.findall(prose(soup)),
            *DIRECTIVE.findall(prose(soup)),
            *raw_directives(soup),
        ]
    ]
    assert raw == []


def test_no_label_target_is_printed(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "label targets", built)
    printed = [
        f"{path.name}: {match}"
        for path, soup in built.pages()
        for match in TARGET.findall(prose(soup, "\n"))
    ]
    assert printed == []


def test_internal_links_resolve_to_existing_targets_with_text(
    built: Built, request: pytest.FixtureRequest
) -> None:
    known_gap(request, "links", built)
    broken = []
    ids: dict[Path, set[str]] = {}
    for path, soup in built.pages():
        ids[path] = {str(element["id"]) for element in soup.find_all(id=True)}
    for path, soup in built.pages():
        for link in soup.select("main a[href]"):
            href = str(link["href"])
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("mailto:"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file():
                broken.append(f"{path.name}: {href} (no such file)")
                continue
            if parts.fragment and target in ids and parts.fragment not in ids[target]:
                broken.append(f"{path.name}: {href} (no such anchor)")
            text = link.get_text(strip=True) or link.get("aria-label") or link.find("img")
            if not text:
                broken.append(f"{path.name}: {href} (a link without text)")
    assert broken == []


def test_every_image_is_copied_with_the_site(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "images", built)
    missing = []
    for path, soup in built.pages():
        for image in soup.select("main img[src]"):
            src = urlsplit(str(image["src"]))
            if src.scheme or src.netloc:
                continue
            if not (path.parent / unquote(src.path)).resolve().is_file():
                missing.append(f"{path.name}: {image['src']}")
    assert missing == []


@dataclass
class TaggedCell:
    page: str
    tags: set[str]
    line: str | None
    """A line of its code found in no other cell of the page (None: every line is also in
    another cell, which the page may rightly show)."""


def tagged_cells(built: Built, tags: set[str]) -> list[TaggedCell]:
    """Every code cell of the sources with one of ``tags``."""
    found = []
    for source in sorted(built.source.rglob("*")):
        if source.suffix not in (".md", ".ipynb") or source.name == "SOURCE.md":
            continue
        text = source.read_text(encoding="utf-8")
        if source.suffix == ".md" and "{code-cell}" not in text:
            continue
        cells = [cell for cell in read_notebook(source).cells if cell.cell_type == "code"]
        lines = [{ln.strip() for ln in cell.source.splitlines() if ln.strip()} for cell in cells]
        page = source.relative_to(built.source).with_suffix(".html").as_posix()
        for index, cell in enumerate(cells):
            own = tags & set(cell.metadata.get("tags", []))
            if own:
                others = set().union(*(lines[:index] + lines[index + 1 :]))
                unique = sorted(lines[index] - others, key=len)
                found.append(TaggedCell(page, own, unique[-1] if unique else None))
    return found


def rendered_cells(built: Built, page: str, tag: str) -> list[Tag]:
    soup = BeautifulSoup((built.site / page).read_text(encoding="utf-8"), "html.parser")
    return [
        cell
        for cell in soup.select("main .lc-cell[data-tags]")
        if tag in str(cell["data-tags"]).split()
    ]


def test_remove_tagged_code_never_reaches_the_html(
    built: Built, request: pytest.FixtureRequest
) -> None:
    known_gap(request, "remove tags", built)
    shown = []
    for cell in tagged_cells(built, REMOVE):
        html = (built.site / cell.page).read_text(encoding="utf-8")
        if cell.line is not None and cell.line in html:
            shown.append(f"{cell.page}: {cell.line!r}")
        shown += [
            f"{cell.page}: a remove-cell cell"
            for _ in rendered_cells(built, cell.page, "remove-cell")
        ]
        shown += [
            f"{cell.page}: a remove-input cell's code"
            for element in rendered_cells(built, cell.page, "remove-input")
            if element.select("pre")
        ]
    assert shown == []


def test_hide_tagged_code_is_collapsed(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "hide tags", built)
    cells = tagged_cells(built, HIDE)
    if not cells:
        pytest.skip(f"{built.name} has no cell tagged {sorted(HIDE)}")
    open_ = []
    for page in sorted({cell.page for cell in cells}):
        wanted = [cell for cell in cells if cell.page == page]
        shown = [element for tag in sorted(HIDE) for element in rendered_cells(built, page, tag)]
        assert len(shown) == len(wanted), f"{page}: {len(wanted)} hidden cells, {len(shown)} shown"
        for element in shown:
            for code in element.select("pre"):
                details = code.find_parent("details")
                if details is None or details.has_attr("open"):
                    open_.append(f"{page}: {code.get_text()[:60]!r}")
    assert open_ == []


def test_titles_are_plain_text(built: Built, request: pytest.FixtureRequest) -> None:
    known_gap(request, "titles", built)
    bad = []
    for path, soup in built.pages():
        title = soup.title.get_text() if soup.title else ""
        if not title.strip() or re.search(r"<[a-z/]|\*\*|`|\{[a-z]", title):
            bad.append(f"{path.name}: {title!r}")
    assert bad == []


# -- Jupyter Book 1 projects: _config.yml and _toc.yml ------------------------------------


def test_a_jupyter_book_1_project_has_its_title_and_first_page(
    built: Built, request: pytest.FixtureRequest
) -> None:
    if not (built.source / "_toc.yml").is_file():
        pytest.skip(f"{built.name} is not a Jupyter Book 1 project")
    known_gap(request, "jb1 title and root", built)
    config = yaml.safe_load((built.source / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((built.source / "_toc.yml").read_text(encoding="utf-8"))
    root = str(toc["root"])
    index = BeautifulSoup((built.site / "index.html").read_text(encoding="utf-8"), "html.parser")
    own = BeautifulSoup((built.site / f"{root}.html").read_text(encoding="utf-8"), "html.parser")
    assert prose(index) == prose(own), "index.html is not the _toc.yml's root page"
    if config.get("title"):
        assert index.title is not None and config["title"] in index.title.get_text()
        header = index.select_one(".lc-site-title")
        assert header is not None and header.get_text(strip=True) == config["title"]
    first = index.select_one("nav.lc-toc a[href]")
    assert first is not None and str(first["href"]).endswith(("index.html", f"{root}.html"))
