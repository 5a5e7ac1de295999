"""``livecells run --cache``: a jupyter-cache folder, read and written by livecells and by
jupyter-cache itself (what Jupyter Book 1 uses), with real kernels."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from tests.test_cli_run import run
from tests.test_execute import code, new_notebook, texts, write

RANDOM = "import random\nrandom.random()"
"""A cell whose output differs on every run: a cached copy is told from a fresh one."""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "one" / "a.ipynb", new_notebook("# A", code("print('a')"), code(RANDOM)))
    write(tmp_path / "two" / "b.ipynb", new_notebook(code("print('b')"), code(RANDOM)))
    return tmp_path


def statuses(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    done = run(capsys, "one", "two", "--cache", "cache", "--json", *args)
    assert done.status == 0, done.out + done.err
    report = json.loads(done.out)
    return {Path(item["source"]).name: item["status"] for item in report["notebooks"]}


def random_output(path: Path) -> str:
    return texts(nbformat.read(path, as_version=4).cells[-1])


def test_an_unchanged_notebook_is_cached_and_written_as_if_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert statuses(capsys) == {"a.ipynb": "passed", "b.ipynb": "passed"}
    first = random_output(project / "executed" / "one" / "a.ipynb")
    shutil.rmtree(project / "executed")
    done = run(capsys, "one", "two", "--cache", "cache")
    assert done.status == 0
    assert "cached   one/a.ipynb (2 cells, from the cache)" in done.err
    assert "2 notebooks: 2 cached" in done.out
    written = nbformat.read(project / "executed" / "one" / "a.ipynb", as_version=4)
    nbformat.validate(written)
    assert texts(written.cells[-1]) == first
    assert written.cells[0].source == "# A"  # the source's Markdown, not only its code
    assert [cell.get("execution_count") for cell in written.cells] == [None, 1, 2]
    assert set(written.cells[1].metadata["execution"]) >= {"iopub.status.busy"}


def test_editing_one_cell_reruns_only_that_notebook(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses(capsys)
    before = random_output(project / "executed" / "two" / "b.ipynb")
    notebook = nbformat.read(project / "one" / "a.ipynb", as_version=4)
    notebook.cells[1].source = "print('a, edited')"
    nbformat.write(notebook, project / "one" / "a.ipynb")
    assert statuses(capsys) == {"a.ipynb": "passed", "b.ipynb": "cached"}
    assert random_output(project / "executed" / "two" / "b.ipynb") == before
    assert statuses(capsys) == {"a.ipynb": "cached", "b.ipynb": "cached"}


def test_editing_markdown_keeps_the_cache(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses(capsys)
    notebook = nbformat.read(project / "one" / "a.ipynb", as_version=4)
    notebook.cells[0].source = "# A, retitled"
    nbformat.write(notebook, project / "one" / "a.ipynb")
    assert statuses(capsys)["a.ipynb"] == "cached"
    written = nbformat.read(project / "executed" / "one" / "a.ipynb", as_version=4)
    assert written.cells[0].source == "# A, retitled"


def test_a_changed_requirements_file_reruns_the_notebooks_beside_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "two" / "requirements.txt").write_text("# nothing yet\n")
    statuses(capsys)
    assert statuses(capsys) == {"a.ipynb": "cached", "b.ipynb": "cached"}
    (project / "two" / "requirements.txt").write_text("# nothing yet, still\n")
    assert statuses(capsys) == {"a.ipynb": "cached", "b.ipynb": "passed"}
    (project / "two" / "requirements.txt").unlink()
    assert statuses(capsys) == {"a.ipynb": "cached", "b.ipynb": "passed"}


@pytest.fixture
def second_python(kernelspecs: Path) -> str:
    """Another kernelspec for the same Python: a different kernel, as a cache key sees it."""
    folder = kernelspecs / "kernels" / "python-other"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (other)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    return "python-other"


def test_other_parameters_or_another_kernel_are_a_miss(
    project: Path, capsys: pytest.CaptureFixture[str], second_python: str
) -> None:
    statuses(capsys)
    assert statuses(capsys, "-p", "x", "1") == {"a.ipynb": "passed", "b.ipynb": "passed"}
    assert statuses(capsys, "-p", "x", "1") == {"a.ipynb": "cached", "b.ipynb": "cached"}
    assert statuses(capsys, "-p", "x", "2")["a.ipynb"] == "passed"
    assert statuses(capsys, "--kernel", "python3")["a.ipynb"] == "cached"  # its own kernel
    assert statuses(capsys, "--kernel", second_python)["a.ipynb"] == "passed"
    assert statuses(capsys, "--kernel", second_python)["a.ipynb"] == "cached"


def test_a_failing_notebook_is_not_cached(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "one" / "a.ipynb", new_notebook(code("1 / 0")))
    for _ in range(2):
        done = run(capsys, "one", "--cache", "cache", "--json")
        assert done.status == 1
        assert json.loads(done.out)["notebooks"][0]["status"] == "failed"


def test_a_cache_jupyter_cache_wrote_is_reused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = get_cache(str(project / "cache"))
    theirs.add_nb_to_project(str(project / "one" / "a.ipynb"))
    load_executor("local-serial", theirs).run_and_cache()
    (record,) = theirs.list_cache_records()
    cached = texts(theirs.get_cache_bundle(record.pk).nb.cells[-1])
    assert statuses(capsys) == {"a.ipynb": "cached", "b.ipynb": "passed"}
    assert random_output(project / "executed" / "one" / "a.ipynb") == cached


def test_a_notebook_run_inplace_stays_cached(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert statuses(capsys, "--inplace") == {"a.ipynb": "passed", "b.ipynb": "passed"}
    assert statuses(capsys, "--inplace") == {"a.ipynb": "cached", "b.ipynb": "cached"}


def test_jupyter_cache_finds_what_livecells_cached(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses(capsys)
    theirs = get_cache(str(project / "cache"))
    records = theirs.list_cache_records()
    assert sorted(Path(record.uri).name for record in records) == ["a.ipynb", "b.ipynb"]
    assert all(record.data["livecells"]["runtime"] == "local" for record in records)
    source = nbformat.read(project / "one" / "a.ipynb", as_version=4)
    pk, merged = theirs.merge_match_into_notebook(source)
    assert texts(merged.cells[-1]) == random_output(project / "executed" / "one" / "a.ipynb")
    assert theirs.get_cache_record(pk).uri.endswith("a.ipynb")
    assert theirs.get_cache_limit() == 1000  # the settings table, as jupyter-cache made it
    theirs.add_nb_to_project(str(project / "two" / "b.ipynb"))  # as Jupyter Book does
    record = theirs.get_cached_project_nb(str(project / "two" / "b.ipynb"))
    assert record is not None and record.uri.endswith("b.ipynb")
    assert theirs.list_unexecuted() == []
    listed = subprocess.run(
        ["jcache", "cache", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "JUPYTERCACHE": str(project / "cache")},
    )
    assert "a.ipynb" in listed.stdout and "b.ipynb" in listed.stdout


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made unwritable even for root (immutable), else by its mode."""
    folder.mkdir()
    immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    if not immutable:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_cache_folder_that_is_not_writable_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only(project / "locked"):
        done = run(capsys, "one", "--cache", "locked")
    assert done.status == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"livecells run: error: locked: cannot write to this cache folder: "
        r"(Operation not permitted|Permission denied)",
        lines[0],
    )
    assert not (project / "executed").exists()


def test_a_cache_path_that_is_a_file_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "cache.txt").write_text("not a folder")
    done = run(capsys, "one", "--cache", "cache.txt")
    assert done.status == 2
    assert done.err.strip().splitlines() == [
        "livecells run: error: cache.txt: not a folder; --cache needs a folder"
    ]
