"""Executing notebooks: run_notebook on one kernel, run_many over many, against real kernels."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import site
import subprocess
import sys
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from tests.conftest import JupyterServer
from tests.wheelfactory import make_wheel

import livecells
from livecells.batch import BatchOptions
from livecells.execute import run_notebook
from livecells.notebooks import find_notebooks, read_notebook
from livecells.runtimes import Kernel

PYTHON3 = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# The kernel's own start time (from /proc), and its pid: how tests see which kernel ran when.
KERNEL_START = """\
import os, time
fields = open('/proc/self/stat').read().rsplit(')', 1)[1].split()
uptime = float(open('/proc/uptime').read().split()[0])
print(time.time() - uptime + int(fields[19]) / os.sysconf('SC_CLK_TCK'), os.getpid())"""


def code(source: str, *tags: str) -> nbformat.NotebookNode:
    metadata = {"tags": list(tags)} if tags else {}
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def new_notebook(*cells: Any, kernel: str = "python3") -> nbformat.NotebookNode:
    spec = PYTHON3 if kernel == "python3" else {"name": kernel, "display_name": kernel}
    built = [nbformat.v4.new_markdown_cell(c) if isinstance(c, str) else c for c in cells]
    return nbformat.v4.new_notebook(cells=built, metadata={"kernelspec": spec})


def write(path: Path, notebook: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def texts(cell: Any) -> str:
    """Everything a cell printed or displayed as text/plain, in order."""
    parts = []
    for output in cell["outputs"]:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", "") + "\n")
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}\n")
    return "".join(parts)


def local(kernel_name: str, cwd: Path) -> Kernel:
    """A local kernel in ``cwd``; over tcp, as the batch runner starts them (the ipc transport
    names its sockets relative to the current directory, so a kernel in another one is lost)."""
    return livecells.connect("local", kernel_name=kernel_name, cwd=str(cwd), transport="tcp")


@pytest.fixture
async def kernel(tmp_path: Path) -> AsyncIterator[Kernel]:
    async with local("python3", tmp_path) as started:
        yield started


# -- run_notebook ---------------------------------------------------------------------------


async def test_run_notebook_records_outputs_and_execution_counts(kernel: Kernel) -> None:
    nb = new_notebook("# title", code("print('hi')"), code("6 * 7"))
    result = await run_notebook(nb, kernel)
    assert result.passed and result.cells_run == 2
    assert [cell.get("execution_count") for cell in nb.cells] == [None, 1, 2]
    assert nb.cells[1]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    assert nb.cells[2]["outputs"][0]["data"]["text/plain"] == "42"
    assert nb.metadata["language_info"]["name"] == "python"
    nbformat.validate(nb)


def comparison_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        "Everything nbclient records, one behaviour per cell.",
        code("import sys, time\nprint('out', flush=True)"),
        code("print('err', file=sys.stderr, flush=True)\nprint('out again', flush=True)"),
        code("for i in range(3):\n    print(i, flush=True)\n    time.sleep(0.05)"),
        code(
            "from IPython.display import Markdown, clear_output, display\n"
            "handle = display(Markdown('one'), display_id='shown')"
        ),
        code("handle.update(Markdown('two'))\ndisplay(Markdown('three'), display_id='shown')"),
        code("print('gone')\nclear_output()\nprint('kept')"),
        code("print('waiting', flush=True)\nclear_output(wait=True)\nprint('after the wait')"),
        code("42"),
        code("   "),
        code("raise SystemExit('skipped')", "skip-execution"),
        code("input('name? ')", "raises-exception"),
        code("1 / 0", "raises-exception"),
        code("'after the errors'"),
    )


def nbclient_normalised(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """nbclient's notebook with what is inherently timing-dependent normalised: its timing
    metadata, and how many chunks a stream arrived in (livecells merges consecutive ones)."""
    document: dict[str, Any] = json.loads(nbformat.writes(notebook))
    for cell in document["cells"]:
        cell["metadata"].pop("execution", None)
        merged: list[dict[str, Any]] = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                last is not None
                and output["output_type"] == last["output_type"] == "stream"
                and output["name"] == last["name"]
            ):
                last["text"] += output["text"]
            else:
                merged.append(output)
        if "outputs" in cell:
            cell["outputs"] = merged
    return document


async def test_outputs_match_nbclient_on_the_same_notebook(tmp_path: Path) -> None:
    theirs = comparison_notebook()
    ours = copy.deepcopy(theirs)
    client = NotebookClient(theirs, kernel_name="python3", resources={"metadata": {"path": "."}})
    await client.async_execute(cwd=str(tmp_path))
    async with local("python3", tmp_path) as kernel:
        result = await run_notebook(ours, kernel)
    assert result.passed
    assert nbclient_normalised(ours) == nbclient_normalised(theirs)


async def test_each_cell_run_records_nbclients_timing_metadata(tmp_path: Path) -> None:
    theirs = comparison_notebook()
    ours = copy.deepcopy(theirs)
    client = NotebookClient(theirs, kernel_name="python3", resources={"metadata": {"path": "."}})
    await client.async_execute(cwd=str(tmp_path))
    async with local("python3", tmp_path) as kernel:
        await run_notebook(ours, kernel)
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
    for mine, reference in zip(ours.cells, theirs.cells, strict=True):
        assert set(mine.metadata.get("execution", {})) == set(
            reference.metadata.get("execution", {})
        )
        timing = mine.metadata.get("execution")
        if timing:
            assert all(stamp.fullmatch(value) for value in timing.values()), timing
            assert timing["iopub.status.busy"] <= timing["iopub.execute_input"]
            assert timing["iopub.execute_input"] <= timing["shell.execute_reply"]
            assert timing["iopub.execute_input"] <= timing["iopub.status.idle"]
    assert sum(1 for cell in ours.cells if cell.metadata.get("execution")) == 11


async def test_a_cell_that_raises_stops_the_run_and_leaves_later_cells_untouched(
    kernel: Kernel,
) -> None:
    nb = new_notebook(code("x = 1"), code("raise ValueError('bad value')"), code("print('no')"))
    result = await run_notebook(nb, kernel)
    assert result.failure is not None
    assert (result.failure.cell_index, result.failure.ename) == (1, "ValueError")
    assert result.failure.evalue == "bad value"
    assert any("bad value" in line for line in result.failure.traceback)
    assert nb.cells[1]["outputs"][0]["output_type"] == "error"
    assert nb.cells[2]["outputs"] == [] and nb.cells[2]["execution_count"] is None


async def test_allow_errors_runs_every_cell_and_records_each_error(kernel: Kernel) -> None:
    nb = new_notebook(code("1 / 0"), code("undefined_name"), code("'still ran'"))
    result = await run_notebook(nb, kernel, allow_errors=True)
    assert result.passed
    assert [error.ename for error in result.errors] == ["ZeroDivisionError", "NameError"]
    assert nb.cells[2]["outputs"][0]["data"]["text/plain"] == "'still ran'"


async def test_raises_exception_tag_lets_that_cell_fail_and_no_other(kernel: Kernel) -> None:
    nb = new_notebook(code("1 / 0", "raises-exception"), code("'next'"), code("1 / 0"))
    result = await run_notebook(nb, kernel)
    assert [error.cell_index for error in result.errors] == [0]
    assert result.failure is not None and result.failure.cell_index == 2


async def test_skip_execution_tag_leaves_the_cell_as_it_was(kernel: Kernel) -> None:
    skipped = code("raise SystemExit", "skip-execution")
    skipped["outputs"] = [nbformat.v4.new_output("stream", text="old\n")]
    nb = new_notebook(skipped, code("'ran'"))
    result = await run_notebook(nb, kernel)
    assert result.passed and result.cells_run == 1
    assert nb.cells[0]["outputs"][0]["text"] == "old\n"
    assert nb.cells[1]["execution_count"] == 1


async def test_input_is_not_available_as_in_nbclient(kernel: Kernel) -> None:
    result = await run_notebook(new_notebook(code("input('name? ')")), kernel)
    assert result.failure is not None and result.failure.ename == "StdinNotImplementedError"


async def test_a_cell_past_its_timeout_is_interrupted_and_keeps_its_output(
    kernel: Kernel,
) -> None:
    nb = new_notebook(code("import time\nprint('started', flush=True)\ntime.sleep(60)"))
    result = await run_notebook(nb, kernel, timeout=2)
    assert result.failure is not None and result.failure.ename == "ExecutionTimeout"
    assert "interrupted" in result.failure.evalue
    assert "started" in texts(nb.cells[0])


async def test_cancelling_keeps_the_running_cells_outputs_in_the_notebook(
    kernel: Kernel,
) -> None:
    nb = new_notebook(code("print('done')"), code("print('partial', flush=True)\nwhile True: pass"))
    running = asyncio.Event()
    task = asyncio.create_task(
        run_notebook(nb, kernel, on_cell=lambda index, number, total: running.set())
    )
    await asyncio.wait_for(running.wait(), 20)
    for _ in range(100):
        if nb.cells[1]["outputs"]:
            break
        await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert texts(nb.cells[0]) == "done\n"
    assert texts(nb.cells[1]) == "partial\n"


async def test_a_bash_kernel_notebook_runs(tmp_path: Path) -> None:
    nb = new_notebook(code("echo hello from bash"), code("X=2; echo $((X * 21))"), kernel="bash")
    async with local("bash", tmp_path) as kernel:
        result = await run_notebook(nb, kernel)
    assert result.passed
    assert texts(nb.cells[0]).strip() == "hello from bash"
    assert texts(nb.cells[1]).strip() == "42"


async def test_run_notebook_works_on_the_server_runtime(jupyter_server: JupyterServer) -> None:
    nb = new_notebook(code("print('on the server')"), code("1 + 1"))
    async with livecells.connect(
        "server", url=jupyter_server.url, token=jupyter_server.token, kernel_name="python3"
    ) as kernel:
        result = await run_notebook(nb, kernel)
    assert result.passed
    assert texts(nb.cells[0]) == "on the server\n"
    assert nb.cells[1]["execution_count"] == 2


# -- run_many -------------------------------------------------------------------------------


async def test_run_many_writes_executed_copies_mirroring_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = write(tmp_path / "book" / "a.ipynb", new_notebook(code("print('a')")))
    second = write(tmp_path / "book" / "part" / "b.ipynb", new_notebook(code("print('b')")))
    before = {path: path.read_bytes() for path in (first, second)}
    report = await livecells.run_many(["book"], jobs=2)
    assert report.exit_status == 0
    assert [item.status for item in report.notebooks] == ["passed", "passed"]
    assert {path: path.read_bytes() for path in (first, second)} == before
    written = nbformat.read(tmp_path / "executed" / "book" / "part" / "b.ipynb", as_version=4)
    nbformat.validate(written)
    assert texts(written.cells[0]) == "b\n"


async def test_each_notebook_gets_its_own_kernel_started_before_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    slow = code("import os, time\ntime.sleep(3)\nprint(time.time(), os.getpid())")
    write(tmp_path / "1-slow.ipynb", new_notebook(slow))
    write(tmp_path / "2-next.ipynb", new_notebook(code(KERNEL_START)))
    report = await livecells.run_many([tmp_path], jobs=1)
    assert report.exit_status == 0
    [slow_end, slow_pid] = texts(read_executed(tmp_path / "1-slow.ipynb").cells[0]).split()
    [next_start, next_pid] = texts(read_executed(tmp_path / "2-next.ipynb").cells[0]).split()
    assert float(next_start) < float(slow_end) - 1.5  # it booted while the first one ran
    assert next_pid != slow_pid


def read_executed(source: Path) -> nbformat.NotebookNode:
    relative = source.resolve().relative_to(Path.cwd().resolve())
    return nbformat.read(Path("executed") / relative, as_version=4)


async def test_notebook_timeout_fails_the_notebook_and_writes_what_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    nb = new_notebook(code("print('first')"), code("import time\ntime.sleep(60)"), code("'no'"))
    write(tmp_path / "slow.ipynb", nb)
    report = await livecells.run_many(["slow.ipynb"], notebook_timeout=3)
    [item] = report.notebooks
    assert item.status == "failed" and report.exit_status == 1
    assert item.failure is not None and item.failure.ename == "NotebookTimeout"
    assert item.failure.cell_index == 1
    written = read_executed(tmp_path / "slow.ipynb")
    assert texts(written.cells[0]) == "first\n"
    assert written.cells[2]["execution_count"] is None


async def test_kernel_option_runs_every_notebook_on_that_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "shell.ipynb", new_notebook(code("echo $((6 * 7))")))
    report = await livecells.run_many(["shell.ipynb"], kernel_name="bash")
    assert report.exit_status == 0
    written = read_executed(tmp_path / "shell.ipynb")
    assert texts(written.cells[0]).strip() == "42"
    assert written.metadata["kernelspec"]["name"] == "bash"


async def test_a_myst_markdown_notebook_is_run_and_written_as_ipynb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.md").write_text(
        "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n# A page\n\n"
        "```{code-cell} ipython3\nprint('from markdown')\n```\n\n"
        "```{code-cell} ipython3\n:tags: [raises-exception]\n1 / 0\n```\n"
    )
    report = await livecells.run_many([tmp_path])
    assert report.exit_status == 0
    written = nbformat.read(tmp_path / "executed" / "page.ipynb", as_version=4)
    nbformat.validate(written)
    assert texts(written.cells[1]) == "from markdown\n"
    assert written.cells[2]["outputs"][0]["ename"] == "ZeroDivisionError"


async def test_an_executed_copy_keeps_the_sources_frontmatter_and_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.md").write_text(
        "---\ntitle: Waves\nsubtitle: and troughs\ndescription: A short page\n"
        "file_format: mystnb\nauthors: [Ada]\njupyter: false\ndate: 2024-01-31\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n  language: python\n---\n"
        "# Waves\n\n```{code-cell} ipython3\n1 + 1\n```\n"
    )
    source = new_notebook(code("1 + 1"))
    source.metadata.update({"title": "Notebook title", "custom": {"keep": [1, 2]}})
    write(tmp_path / "nb.ipynb", source)
    report = await livecells.run_many([tmp_path])
    assert report.exit_status == 0
    page = nbformat.read(tmp_path / "executed" / "page.ipynb", as_version=4).metadata
    assert page["title"] == "Waves" and page["subtitle"] == "and troughs"
    assert page["description"] == "A short page" and page["file_format"] == "mystnb"
    assert page["authors"] == ["Ada"] and page["jupyter"] is False
    assert page["date"] == "2024-01-31"
    assert page["kernelspec"]["name"] == "python3"
    notebook = nbformat.read(tmp_path / "executed" / "nb.ipynb", as_version=4).metadata
    assert notebook["title"] == "Notebook title" and notebook["custom"] == {"keep": [1, 2]}


async def test_run_many_runs_on_the_server_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jupyter_server: JupyterServer
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.ipynb", new_notebook(code("print('a')")))
    write(tmp_path / "b.ipynb", new_notebook(code("print('b')")))
    options = {"url": jupyter_server.url, "token": jupyter_server.token}
    report = await livecells.run_many(["."], runtime="server", runtime_options=options)
    assert [item.status for item in report.notebooks] == ["passed", "passed"]
    assert texts(read_executed(tmp_path / "b.ipynb").cells[0]) == "b\n"


# -- requirements ---------------------------------------------------------------------------


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A python kernel in a throwaway venv that sees this interpreter's packages (so installs
    stay in the throwaway one). ``--system-site-packages`` alone would not do it when the tests
    run in a venv themselves: it shares the *base* interpreter's packages, not this venv's."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [purelib] = venv.glob("lib/python*/site-packages")
    parents = dict.fromkeys([*site.getsitepackages(), sysconfig.get_path("purelib")])
    (purelib / "_parent_packages.pth").write_text("".join(f"{p}\n" for p in parents))
    data = tmp_path / "jupyter-data"
    spec = data / "kernels" / "venv-python"
    spec.mkdir(parents=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "venv", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(data), os.environ["JUPYTER_PATH"]]))
    return "venv-python"


def requirements_project(root: Path, kernel: str) -> Path:
    (root / "wheels").mkdir(parents=True)
    make_wheel(root / "wheels", "lctiny", "1.0", "VALUE = 42\n")
    (root / "requirements.txt").write_text("--no-index\n--find-links wheels\nlctiny\n")
    return write(
        root / "uses-lctiny.ipynb",
        new_notebook(code("import lctiny\nprint(lctiny.VALUE)"), kernel=kernel),
    )


async def test_install_requirements_puts_them_in_the_kernels_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, venv_kernel: str
) -> None:
    monkeypatch.chdir(tmp_path)
    requirements_project(tmp_path / "project", venv_kernel)
    report = await livecells.run_many(["project"], install_requirements=True)
    assert report.exit_status == 0, report.notebooks[0].message
    written = read_executed(tmp_path / "project" / "uses-lctiny.ipynb")
    assert texts(written.cells[0]) == "42\n"
    assert list((tmp_path / "venv").glob("lib/python*/site-packages/lctiny.py"))


async def test_without_install_requirements_a_missing_import_points_at_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, venv_kernel: str
) -> None:
    monkeypatch.chdir(tmp_path)
    requirements_project(tmp_path / "project", venv_kernel)
    report = await livecells.run_many(["project"])
    [item] = report.notebooks
    assert item.status == "failed" and item.failure is not None
    assert item.failure.ename == "ModuleNotFoundError"
    assert "requirements.txt" in item.failure.hint
    assert "--install-requirements" in item.failure.hint


# -- finding and reading notebooks ----------------------------------------------------------


def test_directories_are_searched_recursively_for_notebooks_and_myst_pages(
    tmp_path: Path,
) -> None:
    write(tmp_path / "a.ipynb", new_notebook())
    write(tmp_path / "deep" / "er" / "b.ipynb", new_notebook())
    write(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb", new_notebook())
    write(tmp_path / "executed" / "a.ipynb", new_notebook())
    (tmp_path / "page.md").write_text("```{code-cell}\n1\n```\n")
    (tmp_path / "README.md").write_text("# not a notebook\n")
    found = find_notebooks([tmp_path], exclude=[tmp_path / "executed"])
    names = [path.relative_to(tmp_path).as_posix() for path in found.notebooks]
    assert names == ["a.ipynb", "page.md", "deep/er/b.ipynb"]
    assert found.problems == []


def test_the_output_folder_is_skipped_however_either_path_is_spelled(tmp_path: Path) -> None:
    """``livecells run alias/ --output-dir real/copies``, ``alias`` a link to ``real``: the
    executed copies are not found again as notebooks to run."""
    real, alias = tmp_path / "real", tmp_path / "alias"
    write(real / "a.ipynb", new_notebook())
    write(real / "copies" / "a.ipynb", new_notebook())
    alias.symlink_to(real)
    found = find_notebooks([alias], exclude=[real / "copies"])
    assert found.notebooks == [alias / "a.ipynb"]


def test_globs_expand_and_a_pattern_matching_nothing_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path / "x1.ipynb", new_notebook())
    write(tmp_path / "x2.ipynb", new_notebook())
    found = find_notebooks([f"{tmp_path}/x*.ipynb", f"{tmp_path}/nothing-*.ipynb"])
    assert [path.name for path in found.notebooks] == ["x1.ipynb", "x2.ipynb"]
    [(given, problem)] = found.problems
    assert given.endswith("nothing-*.ipynb") and "no notebook matches" in str(problem)


def test_an_old_nbformat_version_is_converted_to_version_4(tmp_path: Path) -> None:
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    (tmp_path / "old.ipynb").write_text(json.dumps(old))
    assert read_notebook(tmp_path / "old.ipynb").nbformat == 4


def test_a_batch_refuses_zero_jobs() -> None:
    with pytest.raises(livecells.ConfigError, match="jobs must be at least 1, not 0"):
        BatchOptions(jobs=0)
