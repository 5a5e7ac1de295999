"""Pages through mystmd: every MyST construct of ``tests/myst/constructs`` built and found in
the HTML; bad input as one line naming file:line (errors exit 2, the rest warnings)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CONSTRUCTS = Path(__file__).parent / "myst" / "constructs"
SRC = str(Path(__file__).parents[1] / "src")


@dataclass
class Build:
    status: int
    stderr: str
    out: Path

    def html(self, name: str = "index.html") -> str:
        return (self.out / name).read_text(encoding="utf-8")


def livecells_build(root: Path, out: Path) -> Build:
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-m", "livecells", "build", str(root), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return Build(done.returncode, done.stderr, out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = tmp_path_factory.mktemp("constructs") / "book"
    shutil.copytree(CONSTRUCTS, root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = livecells_build(root, root.parent / "out")
    # mystmd ran on a private copy: the author's folder is as it was (no _build, no myst.yml)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    return result


def test_the_page_builds_with_the_unknown_directive_as_a_warning_naming_file_and_line(
    built: Build,
) -> None:
    assert built.status == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if "warning" in line]
    assert warnings == ["livecells build: warning: index.md:110: unknown directive: unknown-thing"]
    assert '<pre class="lc-unknown">Still shown.</pre>' in built.html()


def test_headings_have_anchors_with_a_link_icon(built: Build) -> None:
    assert (
        '<h2 id="sec-first">First section<a class="lc-anchor" href="#sec-first"'
        ' aria-label="Link to this section">#</a></h2>'
    ) in built.html()


def test_cross_references_are_links_with_their_text(built: Build) -> None:
    html = built.html()
    for link in (
        '<a class="lc-xref" href="#sec-first">First section</a>',  # {ref} and [](#label)
        '<a class="lc-xref" href="#fig-dot">Figure\u00a01</a>',  # {numref}
        '<a class="lc-xref" href="#eq-energy">(1)</a>',  # {eq}
        '<a href="other.html">The other page</a>',  # {doc}
        '<a class="lc-xref" href="other.html#term-widget">Widget</a>',  # {term}
        '<a href="other.html">the other page</a>',  # [text](other.md)
        '<a class="lc-cite" href="#cite-knuth1984">Knuth (1984)</a>',  # {cite}
    ):
        assert link in html
    assert html.count('<a class="lc-xref" href="#sec-first">First section</a>') == 2
    assert '<div class="lc-equation" id="eq-energy">' in html
    assert '<li id="cite-knuth1984">Knuth, D. E. (1984). <i>The TeXbook</i>.' in html
    assert '<a class="lc-xref" href="index.html#sec-first">the first section</a>' in built.html(
        "other.html"
    )


def test_no_role_or_directive_reaches_the_page_as_text(built: Build) -> None:
    main = re.search(r"<main.*</main>", built.html(), re.S)
    assert main is not None
    assert re.findall(r"\{[\w:-]+\}`|```|:::|\+\+\+|% a comment", main.group(0)) == []
    assert "a comment that never reaches the page" not in built.html()


def test_inline_roles(built: Build) -> None:
    html = built.html()
    assert '<abbr title="HyperText Markup Language">HTML</abbr>' in html
    assert "<kbd>Ctrl+C</kbd>" in html and "H<sub>2</sub>O" in html and "x<sup>2</sup>" in html


def test_images_are_copied_under_hashed_names(built: Build) -> None:
    sources = re.findall(r'<img src="([^"]+)"', built.html())
    assert len(sources) == 2
    for source in sources:
        assert re.fullmatch(r"_myst/dot-[0-9a-f]{32}\.png", source)
        assert (built.out / source).read_bytes() == (CONSTRUCTS / "dot.png").read_bytes()
    assert '<figure class="lc-figure" id="fig-dot">' in built.html()
    assert "Figure\u00a01:</span> A <strong>caption</strong> for the dot." in built.html()


def test_title_markdown_in_the_page_and_plain_text_in_title_and_navigation(built: Build) -> None:
    html = built.html()
    assert '<h1 class="lc-title" id="top">Every <em>construct</em></h1>' in html
    assert "<title>Every construct · " in html
    assert 'aria-current="page">Every construct</a>' in html
    assert 'rel="next" href="notebook.html">A stored notebook →' in html


def test_directives_render_as_accessible_html(built: Build) -> None:
    html = built.html()
    assert (
        '<aside class="admonition note"><p class="admonition-title">A <em>titled</em> note' in html
    )
    assert html.count('role="tab"') == 2 and html.count('role="tabpanel"') == 2
    assert '<details class="lc-dropdown"><summary>Open me</summary>' in html
    assert '<div class="lc-grid" data-columns="2"><div class="lc-card">' in html
    assert '<p class="admonition-title">Exercise\u00a01 (Add numbers)</p>' in html
    # solutions are collapsed
    assert '<details class="lc-solution"><summary>Solution to <a class="lc-xref"' in html
    assert '<p class="admonition-title">Theorem\u00a01 (Pythagoras)</p>' in html
    assert "<th><p>Name</p>\n</th>" in html and "<th>Col A</th>" in html
    assert "<p>Included <strong>snippet</strong> text.</p>" in html
    assert "first = 1\nsecond = 2</code>" in html and "third" not in html
    assert '<pre class="lc-mermaid">graph TD\n  A --&gt; B</pre>' in html


def test_cell_tags_are_honoured(built: Build) -> None:
    html = built.html()
    assert "removed cell" not in html  # remove-cell
    assert "removed input" not in html  # remove-input: not offered live either
    assert html.count('class="lc-cell"') == 4
    hidden = re.search(
        r'<div class="lc-cell"[^>]*data-tags="hide-input">(.*?)</div></div>', html, re.S
    )
    assert hidden is not None
    assert hidden.group(1).startswith(
        '<details class="lc-hide-input"><summary>Show code</summary><pre class="lc-source">'
    )
    assert '<details class="lc-hide-output"><summary>Show output</summary>' in html
    assert (
        '<details class="lc-hide-cell"><summary>Show code cell</summary><div class="lc-cell"'
    ) in html


def test_a_notebooks_stored_outputs_are_the_static_fallback_with_its_tags(built: Build) -> None:
    html = built.html("notebook.html")
    # the first heading is the title: mystmd lifts it as plain text
    assert '<h1 class="lc-title" id="top">A stored notebook</h1>' in html
    assert '<pre class="lc-output lc-stream lc-stdout">kept output\n</pre>' in html
    assert "stored but removed\n" not in html  # remove-output
    assert (
        '<details class="lc-hide-output"><summary>Show output</summary><div class="lc-outputs"'
        ' data-execution-count="3"><pre class="lc-output lc-stream lc-stdout">collapsed output'
    ) in html
    assert '<div class="lc-output lc-html"><b>bold</b></div>' in html  # sanitised: no onclick


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "book"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_an_include_outside_the_folder_is_an_error_and_never_read(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("TOP SECRET\n")
    root = project(tmp_path, {"index.md": "# Page\n\n```{include} ../secret.md\n```\n"})
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"livecells build: error: index.md:3: ../secret.md: outside {root}; a page may "
        "include only files of its own folder (copy the file in)"
    )
    assert not (tmp_path / "out" / "index.html").exists()


def test_a_toc_entry_outside_the_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("# Outside\n")
    root = project(
        tmp_path,
        {
            "index.md": "# Page\n",
            "_config.yml": "title: JB1\n",
            "_toc.yml": "format: jb-book\nroot: index\nchapters:\n- file: ../outside\n",
        },
    )
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert "livecells build: error: _toc.yml: toc entry file: ../outside: outside" in (
        result.stderr
    )


def test_a_jupyter_book_1_project_is_upgraded_on_a_copy(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "intro.md": "# Intro\n\nHello.\n",
            "ch1.md": "# Chapter *one*\n",
            "_config.yml": "title: My JB1 Book\n",
            "_toc.yml": "format: jb-book\nroot: intro\nchapters:\n- file: ch1\n",
        },
    )
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 0, result.stderr
    assert sorted(p.name for p in root.iterdir()) == [
        "_config.yml",
        "_toc.yml",
        "ch1.md",
        "intro.md",
    ]
    index = result.html()
    assert '<h1 class="lc-title" id="top">Intro</h1>' in index
    assert "<title>Intro · My JB1 Book</title>" in index
    assert 'rel="next" href="ch1.html">Chapter one →' in index


def test_unresolved_references_and_missing_includes_are_warnings_naming_the_line(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {"index.md": "# Page\n\nSee {ref}`nowhere`.\n\n```{include} missing.md\n```\n"},
    )
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 0
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert (
        'livecells build: warning: index.md:5: Include Directive: Could not find "missing.md" '
        'relative to "index.md"'
    ) in warnings
    assert (
        "livecells build: warning: index.md:3: Cross reference target was not found: nowhere"
        in (warnings)
    )


def test_a_broken_myst_yml_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# Page\n", "myst.yml": "version: 1\nproject: [\n"})
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("livecells build: error: myst.yml:3: not valid YAML: expected the node content")
    )


def test_serve_refuses_an_include_outside_the_folder_before_listening(tmp_path: Path) -> None:
    root = project(tmp_path, {"index.md": "# Page\n\n![host](../../../etc/hostname.png)\n"})
    done = subprocess.run(
        [sys.executable, "-m", "livecells", "serve", str(root), "--no-browser"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"livecells serve: error: index.md:3: ../../../etc/hostname.png: outside {root}; a page "
        "may include only files of its own folder (copy the file in)"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "version: 1\nproject:\n  toc:\n    - file: index.md\n    - file: ../outside.md\n",
            "myst.yml: toc entry file: ../outside.md: outside the book's folder",
        ),
        (
            "version: 1\nextends: ../shared.yml\nproject: {}\n",
            "myst.yml: extends: ../shared.yml: outside the book's folder",
        ),
    ],
)
def test_a_myst_yml_reaching_outside_the_folder_is_an_error(
    tmp_path: Path, config: str, message: str
) -> None:
    (tmp_path / "outside.md").write_text("# Outside\n")
    (tmp_path / "shared.yml").write_text("version: 1\nproject: {title: Shared}\n")
    root = project(tmp_path, {"index.md": "# Page\n", "myst.yml": config})
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert f"livecells build: error: {message}" in result.stderr


def test_a_root_relative_path_is_inside_the_folder(tmp_path: Path) -> None:
    """mystmd reads ``/dot.png`` from the project's root, not the machine's."""
    root = project(tmp_path, {"index.md": "# Page\n\n![dot](/images/dot.png)\n"})
    (root / "images").mkdir()
    shutil.copy(CONSTRUCTS / "dot.png", root / "images" / "dot.png")
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 0, result.stderr
    source = re.search(r'<img src="(_myst/dot-[0-9a-f]+\.png)"', result.html())
    assert source is not None and (result.out / source.group(1)).is_file()


def test_serve_sees_every_edit_of_a_page_in_quick_succession(tmp_path: Path) -> None:
    """Under serve, mystmd's watcher re-reads an edited page; each edit's AST is the one
    served (mystmd may write a page twice: the second write of an older edit is not taken
    for the newest)."""
    from livecells.myst.project import MystProject

    root = project(tmp_path, {"a.md": "# A\n\nfirst\n", "b.md": "# B\n\nSee [A](a.md).\n"})
    watched = MystProject(root)
    watched.watch()
    try:
        assert "first" in json.dumps(watched.result().pages[Path("a.md")].mdast)
        for word in ("second", "first", "third", "first", "fourth"):
            (root / "a.md").write_text(f"# A\n\n{word}\n")
            assert word in json.dumps(watched.result().pages[Path("a.md")].mdast), word
    finally:
        watched.close()


def test_a_page_offered_as_a_download_is_published_and_no_other_page_source(
    tmp_path: Path,
) -> None:
    pages = {
        "index.md": "# Home\n\nGet {download}`the notes <notes.md>`, or [nothing](nowhere).\n",
        "notes.md": "# Notes\n\n```{code-cell} python\n:tags: [remove-cell]\nsecret = 1\n```\n",
        "other.md": "# Other\n\n```{code-cell} python\n:tags: [remove-cell]\nhidden = 2\n```\n",
    }
    root = project(tmp_path, pages)
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 0, result.stderr
    published = sorted(path.name for path in (result.out / "_myst").glob("*.md"))
    assert len(published) == 1 and published[0].startswith("notes-"), published
    html = result.html()
    assert f'href="_myst/{published[0]}"' in html
    assert '<span class="lc-unresolved">nothing</span>' in html
    assert (
        "livecells build: warning: index.md:3: link to 'nowhere' leads to no page or label of "
        "this book; shown as text"
    ) in result.stderr.splitlines()


GLUE_NOTEBOOK_CELLS = [
    ("markdown", "# Glued\n"),
    (
        "code",
        "import base64\nfrom IPython.display import Image\nfrom myst_nb import glue\n"
        "glue('mean', 3.14159)\nglue('name', 'Ada', display=False)\n"
        "dot = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\nglue('dot', Image(data=dot, format='png'))\n"
        "print('printed')",
    ),
    (
        "markdown",
        "Mean {glue:text}`mean:.2f`, raw {glue:}`mean`, by {glue:text}`name`, "
        "and {glue:}`nothing`.\n\n```{glue:figure} dot\n:name: fig-dot\n\nThe *dot*.\n```\n\n"
        "See {numref}`fig-dot`.\n",
    ),
]


def test_myst_nb_glue_pastes_a_notebooks_outputs_into_its_text(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for kind, source in GLUE_NOTEBOOK_CELLS:
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(new(source))
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()  # a real kernel
    root = tmp_path / "book"
    root.mkdir()
    nbformat.write(notebook, root / "index.ipynb")
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 0, result.stderr
    html = result.html()
    assert "Mean 3.14, raw 3.14159, by Ada, and <code>nothing</code>." in html
    assert re.search(
        r'<figure class="lc-figure lc-glue" id="fig-dot"><div class="lc-output lc-image">'
        r'<img alt="image/png output" src="data:image/png;base64,iVBOR[^"]+"></div>'
        r"<figcaption>The \*dot\*.</figcaption></figure>",
        html,
    ), html
    assert '<a class="lc-xref" href="#fig-dot">' in html
    # Under the cell, what it printed; its glued outputs only where the text pastes them.
    cell = html[html.index('class="lc-outputs"') : html.index("Mean ")]
    assert "printed" in cell and "3.14159" not in cell and "<img" not in cell
    # mystmd's "unknown role" for glue is not passed on; a name nothing glued is.
    warnings = result.stderr.splitlines()
    assert not [line for line in warnings if "unknown" in line], warnings
    assert (
        "livecells build: warning: index.ipynb:1: no output of this page is glued as 'nothing' "
        "(myst_nb.glue in one of its cells, with stored outputs); shown as written"
    ) in warnings


def test_a_mystnb_figure_cell_shows_its_outputs_as_a_figure_with_its_caption(
    tmp_path: Path,
) -> None:
    options = "---\nmystnb:\n  figure:\n    caption: A <small> plot.\n    name: fig-small\n---\n"
    page = f"# Figures\n\n```{{code-cell}} python\n{options}print(1)\n```\n"
    result = livecells_build(project(tmp_path, {"index.md": page}), tmp_path / "out")
    assert result.status == 0, result.stderr
    assert "mystnb" not in result.stderr  # mystmd's "unexpected option" is not passed on
    # The caption outside the outputs, which a run replaces.
    assert re.search(
        r'<figure class="lc-figure" id="fig-small"><div class="lc-outputs"[^>]*></div>'
        r"<figcaption>A &lt;small&gt; plot.</figcaption></figure>",
        result.html(),
    )


def test_a_notebooks_markdown_cell_may_include_no_file_outside_the_folder(tmp_path: Path) -> None:
    import nbformat

    (tmp_path / "secret.md").write_text("TOP SECRET\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Notebook"),
        nbformat.v4.new_markdown_cell("Before.\n\n```{include} ../secret.md\n```\n"),
    ]
    root = tmp_path / "book"
    root.mkdir()
    nbformat.write(notebook, root / "index.ipynb")
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"livecells build: error: index.ipynb:cell 2, line 3: ../secret.md: outside {root}; a "
        "page may include only files of its own folder (copy the file in)"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"index.md": "---\nbibliography:\n  - refs.bib\n  - ../refs.bib\n---\n# Page\n"},
            "index.md:4: ../refs.bib: outside {root}; a page may include only files of its own "
            "folder (copy the file in)",
        ),
        (
            {
                "index.md": "# Page\n",
                "myst.yml": "version: 1\nproject:\n  bibliography: [/x.bib]\n",
            },
            "myst.yml: bibliography: /x.bib: outside the book's folder; copy it in",
        ),
    ],
)
def test_a_bibliography_outside_the_folder_is_an_error(
    tmp_path: Path, files: dict[str, str], error: str
) -> None:
    (tmp_path / "refs.bib").write_text("@misc{secret, title={TOP SECRET}}\n")
    root = project(tmp_path, {"refs.bib": "@misc{mine, title={Mine}}\n", **files})
    result = livecells_build(root, tmp_path / "out")
    assert result.status == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "livecells build: error: " + error.format(root=root)
    )
