"""``livecells build --execute``: pages run (real kernels) before they are rendered."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from tests.test_cli_run import Run
from tests.test_execute import code, new_notebook, write

from livecells.cli import main
from livecells.config import load_project
from livecells.errors import ConfigError

EXAMPLES = Path(__file__).parents[1] / "examples"
TITLE = "  title: livecells examples\n"
"""The line of examples/livecells.yml after which a test adds its settings."""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(EXAMPLES, root)
    stale = new_notebook("# Fresh", code("print('fresh', 6 * 7)"))
    stale.cells[1].outputs = [nbformat.v4.new_output("stream", text="stale output\n")]
    write(root / "fresh.ipynb", stale)
    return root


def build(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Run:
    status = main(["build", str(root), "-o", str(root.parent / "out"), *args])
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def page(root: Path, name: str) -> str:
    return (root.parent / "out" / name).read_text(encoding="utf-8")


def test_the_example_book_is_built_with_fresh_outputs(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {path: path.read_bytes() for path in book.rglob("*") if path.is_file()}
    done = build(capsys, book, "--execute")
    assert done.status == 0, done.err
    assert "fresh 42" in page(book, "fresh.html")
    assert "stale output" not in page(book, "fresh.html")
    assert "wrote 5 pages" in done.out
    assert {path: path.read_bytes() for path in book.rglob("*") if path.is_file()} == before
    assert "interactive.md" not in done.err  # `execute: false`: never run (it loops forever)


def test_without_execute_the_stored_outputs_are_shown(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(capsys, book).status == 0
    assert "stale output" in page(book, "fresh.html")


def test_a_failing_page_fails_the_build_with_its_cell_and_traceback(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(book / "broken.ipynb", new_notebook(code("x = 1"), code("def f():\n    1 / 0\nf()")))
    done = build(capsys, book, "--execute")
    assert done.status == 2
    assert (
        "livecells build: error: broken.ipynb: execution failed: cell 1: "
        "ZeroDivisionError: division by zero"
    ) in done.err.splitlines()
    assert "----> 3 f()" in done.err  # the traceback
    assert "fresh 42" in page(book, "fresh.html")  # the other pages are still written


def test_a_raises_exception_tag_lets_its_cell_fail(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(book / "tagged.ipynb", new_notebook(code("1 / 0", "raises-exception"), code("'after'")))
    done = build(capsys, book, "--execute")
    assert done.status == 0, done.err
    assert "ZeroDivisionError" in page(book, "tagged.html") and "after" in page(book, "tagged.html")


def test_frontmatter_allow_errors_lets_a_page_fail(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (book / "allowed.md").write_text(
        "---\nlivecells:\n  execute:\n    allow_errors: true\n---\n# Allowed\n\n"
        "```{code-cell} python\nraise ValueError('expected here')\n```\n\n"
        "```{code-cell} python\nprint('went on')\n```\n"
    )
    done = build(capsys, book, "--execute")
    assert done.status == 0, done.err
    assert "expected here" in page(book, "allowed.html")
    assert "went on" in page(book, "allowed.html")


def test_the_project_config_turns_execution_on(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = book / "livecells.yml"
    config.write_text(
        config.read_text().replace(TITLE, f"{TITLE}  livecells:\n    execute: true\n")
    )
    done = build(capsys, book)
    assert done.status == 0, done.err
    assert "fresh 42" in page(book, "fresh.html")


def test_the_execute_flag_overrides_the_projects_false_but_not_a_pages(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = book / "livecells.yml"
    config.write_text(
        config.read_text().replace(TITLE, f"{TITLE}  livecells:\n    execute: false\n")
    )
    assert build(capsys, book).status == 0
    assert "stale output" in page(book, "fresh.html")
    done = build(capsys, book, "--execute")
    assert done.status == 0, done.err
    assert "fresh 42" in page(book, "fresh.html")
    assert "interactive.md" not in done.err  # its own `execute: false` still holds


def test_with_a_cache_an_unchanged_book_is_not_run_again(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(capsys, book, "--execute", "--cache", str(book.parent / "jc")).status == 0
    done = build(capsys, book, "--execute", "--cache", str(book.parent / "jc"))
    assert done.status == 0
    assert "cached" in done.err and "running" not in done.err
    assert "fresh 42" in page(book, "fresh.html")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{allow_erors: true}", "livecells.execute: unknown key 'allow_erors'"),
        ("3", "livecells.execute: expected true, false, or a mapping"),
        ("{timeout: -1}", "livecells.execute.timeout: expected a positive number"),
        ("{allow_errors: 'yes'}", "livecells.execute.allow_errors: expected a boolean"),
    ],
)
def test_a_bad_execute_setting_is_an_error_naming_the_key(
    tmp_path: Path, value: str, message: str
) -> None:
    (tmp_path / "livecells.yml").write_text(f"project:\n  livecells:\n    execute: {value}\n")
    with pytest.raises(ConfigError, match=message):
        load_project(tmp_path)
