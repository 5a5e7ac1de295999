"""Reading MyST pages as notebooks: a frontmatter ``kernelspec`` as MyST-NB and mystmd take it
(``display_name``, even ``name``, may be missing; jupytext's nested ``jupyter.kernelspec``), and
a malformed one is one line naming the file and the key, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import livecells_cli

from livecells.errors import NotebookError
from livecells.notebooks import read_notebook

CELL = "```{code-cell} python\nprint(6 * 7)\n```\n"


def page(tmp_path: Path, frontmatter: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(f"---\n{frontmatter}---\n# A page\n{CELL}")
    return path


@pytest.mark.parametrize(
    ("frontmatter", "spec"),
    [
        ("kernelspec:\n  name: python3\n", {"name": "python3", "display_name": "python3 Kernel"}),
        (
            "kernelspec: {name: bash, language: bash}\n",
            {"name": "bash", "language": "bash", "display_name": "bash Kernel"},
        ),
        ("kernelspec: {}\n", {"name": "python3", "display_name": "python3 Kernel"}),
        (
            "jupyter:\n  kernelspec: {name: python3, display_name: Py}\n",
            {"name": "python3", "display_name": "Py"},
        ),
    ],
)
def test_a_kernelspec_without_display_name_is_read_as_mystmd_reads_it(
    tmp_path: Path, frontmatter: str, spec: dict[str, str]
) -> None:
    notebook = read_notebook(page(tmp_path, frontmatter))
    assert dict(notebook.metadata["kernelspec"]) == spec
    assert "jupyter" not in notebook.metadata  # the nested kernelspec was all it held


@pytest.mark.parametrize(
    ("frontmatter", "message"),
    [
        (
            "kernelspec: 3\n",
            "kernelspec: expected a mapping of name, display_name, language, argv, env, "
            "e.g. {name: python3}; got 3",
        ),
        ("kernelspec: {name: [1]}\n", "kernelspec.name: expected a string, got [1]"),
        (
            "kernelspec: {name: a, display_name: 2}\n",
            "kernelspec.display_name: expected a string, got 2",
        ),
        (
            "kernelspec: {argv: python}\n",
            "kernelspec.argv: expected a list of strings, got 'python'",
        ),
        ("kernelspec: {env: [a]}\n", "kernelspec.env: expected a mapping, got ['a']"),
    ],
)
def test_a_malformed_kernelspec_names_the_file_and_the_key(
    tmp_path: Path, frontmatter: str, message: str
) -> None:
    path = page(tmp_path, frontmatter)
    with pytest.raises(NotebookError) as caught:
        read_notebook(path)
    assert str(caught.value) == f"{path}: {message}"


def test_build_and_run_take_a_page_without_display_name(tmp_path: Path) -> None:
    source = tmp_path / "book"
    source.mkdir()
    page(source, "kernelspec:\n  name: python3\n")
    built = livecells_cli("build", str(source), "-o", str(tmp_path / "site"))
    assert built.returncode == 0, built.stderr
    assert "print" in (tmp_path / "site" / "page.html").read_text()
    ran = livecells_cli("run", str(source / "page.md"), "--output-dir", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert len(list((tmp_path / "out").rglob("page.ipynb"))) == 1


def test_build_refuses_a_malformed_kernelspec_in_one_line_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "book"
    source.mkdir()
    page(source, "kernelspec: {name: [1]}\n")
    built = livecells_cli("build", str(source), "-o", str(tmp_path / "site"))
    assert built.returncode == 2
    # (mystmd, parsing the page, may add a warning of its own)
    (line,) = [line for line in built.stderr.splitlines() if ": error: " in line]
    assert line.startswith("livecells build: error: page.md: kernelspec.name: expected a string")
