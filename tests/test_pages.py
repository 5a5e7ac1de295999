"""Reading pages: notebooks, MyST notebooks, plain Markdown; frontmatter and titles."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from livecells.errors import NotebookError
from livecells.pages import find_pages, page_url, read_page


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plain_markdown_page_is_one_prose_cell_with_its_frontmatter(tmp_path: Path) -> None:
    write(tmp_path / "intro.md", "---\ntitle: Intro\njupyter: false\n---\n\n# Ignored\n\nText.\n")
    page = read_page(tmp_path, Path("intro.md"))
    assert page.title == "Intro"
    assert page.frontmatter == {"title": "Intro", "jupyter": False}
    assert [cell.kind for cell in page.cells] == ["markdown"]
    assert not page.has_code


def test_a_myst_page_keeps_myst_frontmatter_that_jupytext_would_misread(tmp_path: Path) -> None:
    text = (
        "---\njupyter: false\nkernelspec:\n  name: bash\n  display_name: Bash\n---\n\n"
        "# Shell\n\n```{code-cell} bash\necho hi\n```\n"
    )
    page = read_page(tmp_path, write(tmp_path / "shell.md", text).relative_to(tmp_path))
    assert page.frontmatter["jupyter"] is False
    assert page.kernel_name == "bash"
    assert page.title == "Shell"
    assert [cell.kind for cell in page.cells] == ["markdown", "code"]
    assert page.cells[1].source == "echo hi"


def test_a_notebooks_frontmatter_is_its_first_markdown_cells_yaml(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("---\ntitle: From YAML\n---\n# Heading"),
        nbformat.v4.new_code_cell("1 + 1", execution_count=3),
    ]
    result = nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)
    nb.cells[1].outputs = [result]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    page = read_page(tmp_path, Path("nb.ipynb"))
    assert page.title == "From YAML"
    assert page.cells[0].source.strip() == "# Heading"
    assert page.cells[1].execution_count == 3
    assert page.cells[1].outputs[0]["data"] == {"text/plain": "2"}


def test_the_title_falls_back_to_the_first_heading_then_the_file_name(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "Some text\n\n# The heading\n")
    write(tmp_path / "my_page-name.md", "no heading here\n")
    assert read_page(tmp_path, Path("a.md")).title == "The heading"
    assert read_page(tmp_path, Path("my_page-name.md")).title == "My page name"


def test_bad_frontmatter_is_an_error_naming_the_page_and_line(tmp_path: Path) -> None:
    write(tmp_path / "bad.md", "---\ntitle: [unclosed\n---\ntext\n")
    with pytest.raises(NotebookError, match=r"^bad.md: frontmatter is not valid YAML at line"):
        read_page(tmp_path, Path("bad.md"))


def test_a_broken_notebook_is_an_error_naming_it_relative_to_the_site(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "broken.ipynb", "{not json")
    with pytest.raises(NotebookError, match=r"^sub/broken.ipynb: not a notebook: invalid JSON"):
        read_page(tmp_path, Path("sub/broken.ipynb"))


def test_pages_are_found_recursively_skipping_hidden_and_build_folders(tmp_path: Path) -> None:
    for name in ["a.md", "sub/b.ipynb", ".hidden/c.md", "_build/d.md", "node_modules/e.md"]:
        write(tmp_path / name, "# x\n")
    write(tmp_path / "data.csv", "1,2\n")
    assert find_pages(tmp_path) == [Path("a.md"), Path("sub/b.ipynb")]


def test_page_urls_are_html_files_beside_the_source() -> None:
    assert page_url(Path("a/b.ipynb")) == "a/b.html"
    assert page_url(Path("intro.md")) == "intro.html"
