"""``livecells run``: exit status, what it prints, what it writes, bad input and Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from rich.console import Console
from tests.conftest import JupyterServer
from tests.test_execute import code, new_notebook, texts, write

from livecells.cli import main
from livecells.commands.progress import LiveProgress
from livecells.reports import BatchReport, NotebookReport, strip_ansi


@dataclass
class Run:
    status: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    status = main(["run", *args])
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_passing_notebooks_exit_0_and_the_summary_lists_each(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "nbs" / "one.ipynb", new_notebook(code("print(1)")))
    write(project / "nbs" / "two.ipynb", new_notebook(code("print(2)"), code("3")))
    done = run(capsys, "nbs")
    assert done.status == 0
    assert "nbs/one.ipynb" in done.out and "nbs/two.ipynb" in done.out
    assert "2 notebooks: 2 passed" in done.out
    assert (project / "executed" / "nbs" / "two.ipynb").is_file()


def test_without_a_terminal_progress_is_plain_lines(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "one.ipynb", new_notebook(code("print(1)")))
    done = run(capsys, "one.ipynb")
    lines = [line for line in done.err.splitlines() if not line.startswith("[IPKernelApp]")]
    assert lines[0] == "running  one.ipynb (python3)"
    assert lines[1].startswith("passed   one.ipynb (1 cells, ")
    assert "\x1b[" not in done.err


def test_a_failure_names_notebook_cell_and_error_and_shows_the_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = new_notebook("# intro", code("x = 1"), code("def f():\n    return 1 / 0\nf()"))
    write(project / "broken.ipynb", nb)
    write(project / "fine.ipynb", new_notebook(code("print('fine')")))
    done = run(capsys, ".")
    assert done.status == 1
    assert "broken.ipynb, cell 2: ZeroDivisionError: division by zero" in done.out
    assert "----> 3 f()" in done.out  # the traceback, without colour codes
    assert "return 1 / 0" in done.out
    assert "1 failed" in done.out and "1 passed" in done.out


def test_allow_errors_keeps_going_and_passes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "errors.ipynb", new_notebook(code("1 / 0"), code("print('after')")))
    done = run(capsys, "--allow-errors", "errors.ipynb")
    assert done.status == 0
    written = nbformat.read(project / "executed" / "errors.ipynb", as_version=4)
    assert texts(written.cells[1]) == "after\n"


def test_per_cell_timeout_fails_the_notebook(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "slow.ipynb", new_notebook(code("import time\ntime.sleep(30)")))
    done = run(capsys, "--timeout", "1", "slow.ipynb")
    assert done.status == 1
    assert "slow.ipynb, cell 0: ExecutionTimeout: the cell did not finish within 1.0 s" in done.out


def test_json_report_is_machine_readable(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "ok.ipynb", new_notebook(code("print('ok')")))
    write(project / "bad.ipynb", new_notebook(code("raise KeyError('k')")))
    done = run(capsys, "--json", "ok.ipynb", "bad.ipynb")
    report = json.loads(done.out)
    assert report["summary"] == {
        "total": 2,
        "passed": 1,
        "failed": 1,
        "duration": report["summary"]["duration"],
        "exit_status": 1,
    }
    ok, bad = report["notebooks"]
    assert (ok["status"], ok["output"], ok["cells_run"]) == ("passed", "executed/ok.ipynb", 1)
    assert bad["failure"]["cell_index"] == 0
    assert (bad["failure"]["ename"], bad["failure"]["evalue"]) == ("KeyError", "'k'")
    assert "\x1b[" not in "".join(bad["failure"]["traceback"])


def test_inplace_overwrites_ipynb_sources(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(project / "me.ipynb", new_notebook(code("print('in place')")))
    done = run(capsys, "--inplace", "me.ipynb")
    assert done.status == 0
    assert texts(nbformat.read(source, as_version=4).cells[0]) == "in place\n"
    assert not (project / "executed").exists()


def test_output_dir_option_chooses_where_copies_go(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "a.ipynb", new_notebook(code("1")))
    assert run(capsys, "--output-dir", "out/here", "a.ipynb").status == 0
    assert (project / "out" / "here" / "a.ipynb").is_file()


def test_server_runtime_takes_the_token_from_the_environment(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    jupyter_server: JupyterServer,
) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", jupyter_server.token)
    write(project / "remote.ipynb", new_notebook(code("print('remote')")))
    done = run(capsys, "--runtime", "server", "--url", jupyter_server.url, "remote.ipynb")
    assert done.status == 0, done.out
    written = nbformat.read(project / "executed" / "remote.ipynb", as_version=4)
    assert texts(written.cells[0]) == "remote\n"


def test_server_runtime_without_url_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run(capsys, "--runtime", "server", "x.ipynb")
    assert done.status == 2
    assert "--runtime server needs --url" in done.err


# -- bad input: one run, one behaviour per test -----------------------------------------------


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Path]]:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "invalid.ipynb").write_text('{"cells": [')
    nb = new_notebook(code("1"))
    future = json.loads(nbformat.writes(nb))
    future["nbformat"] = 99
    (root / "future.ipynb").write_text(json.dumps(future))
    schemaless = json.loads(nbformat.writes(nb))
    schemaless["cells"][0]["cell_type"] = "spreadsheet"  # valid JSON, not a valid notebook
    (root / "schemaless.ipynb").write_text(json.dumps(schemaless))
    write(root / "nokernel.ipynb", new_notebook(code("1"), kernel="no-such-kernel"))
    (root / "gone.ipynb").symlink_to(root / "missing-target.ipynb")
    (root / "empty").mkdir()
    write(root / "good.ipynb", new_notebook(code("print('good')")))
    cwd = Path.cwd()
    os.chdir(root)
    try:
        args = ["run", "invalid.ipynb", "future.ipynb", "schemaless.ipynb", "nokernel.ipynb"]
        args += ["gone.ipynb"]
        args += ["empty", "good.ipynb", "nowhere.ipynb"]
        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdout", out)
            patch.setattr(sys, "stderr", err)
            status = main(args)
        yield Run(status, out.getvalue(), err.getvalue()), root
    finally:
        os.chdir(cwd)


def error_line(run: Run, name: str) -> str:
    prefix = f"livecells run: error: {name}: "
    [line] = [line for line in run.err.splitlines() if line.startswith(prefix)]
    return line


def test_bad_input_exits_2(bad_inputs: tuple[Run, Path]) -> None:
    assert bad_inputs[0].status == 2


def test_other_notebooks_still_run_despite_bad_input(bad_inputs: tuple[Run, Path]) -> None:
    root = bad_inputs[1]
    written = nbformat.read(root / "executed" / "good.ipynb", as_version=4)
    assert texts(written.cells[0]) == "good\n"


def test_invalid_json_is_one_line_naming_the_file(bad_inputs: tuple[Run, Path]) -> None:
    assert "invalid JSON at line 1" in error_line(bad_inputs[0], "invalid.ipynb")


def test_an_unsupported_nbformat_version_is_one_line_naming_the_file(
    bad_inputs: tuple[Run, Path],
) -> None:
    assert "nbformat version 99 is not supported" in error_line(bad_inputs[0], "future.ipynb")


def test_a_notebook_failing_its_schema_is_one_line_naming_the_file(
    bad_inputs: tuple[Run, Path],
) -> None:
    assert "not a valid notebook" in error_line(bad_inputs[0], "schemaless.ipynb")


def test_a_missing_kernelspec_is_one_line_naming_the_file(bad_inputs: tuple[Run, Path]) -> None:
    line = error_line(bad_inputs[0], "nokernel.ipynb")
    assert "no kernelspec named 'no-such-kernel'" in line


def test_an_unreadable_file_is_one_line_naming_the_file(bad_inputs: tuple[Run, Path]) -> None:
    assert "cannot read it" in error_line(bad_inputs[0], "gone.ipynb")


def test_a_directory_without_notebooks_is_one_line_naming_it(
    bad_inputs: tuple[Run, Path],
) -> None:
    assert "no notebooks in this directory" in error_line(bad_inputs[0], "empty")


def test_a_path_that_does_not_exist_is_one_line_naming_it(bad_inputs: tuple[Run, Path]) -> None:
    assert "no such file or directory" in error_line(bad_inputs[0], "nowhere.ipynb")


# -- the live display -----------------------------------------------------------------------


async def test_live_display_shows_each_running_notebook_and_its_current_cell() -> None:
    sink = io.StringIO()
    display = LiveProgress(Console(file=sink, force_terminal=True, width=100))
    first = NotebookReport(source=Path("book/one.ipynb"), cells_total=4)
    second = NotebookReport(source=Path("book/two.ipynb"), cells_total=2)
    display.begin([first, second])
    display.started(first)
    display.started(second)
    first.current_cell, first.cells_run = 3, 1
    display.cell(first)
    screen = _render(display)
    assert "book/one.ipynb · cell 3" in screen and "1/4" in screen
    assert "book/two.ipynb" in screen
    assert "notebooks" in screen and "0/2" in screen
    first.status, first.duration = "passed", 1.0
    display.finished(first)
    assert "book/one.ipynb · cell" not in _render(display)
    assert "1/2" in _render(display)
    display.end(BatchReport())


def test_on_a_terminal_livecells_run_shows_the_live_display(tmp_path: Path) -> None:
    """The real command under a pseudo-terminal: rich's display (bar, counts, a line for each
    running notebook and its cell), each notebook's outcome, then the summary."""
    for name in ("slow.ipynb", "later.ipynb"):
        write(tmp_path / name, new_notebook(code("1"), code("import time\ntime.sleep(1.5)")))
    main_fd, child_fd = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "30", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "livecells", "run", "slow.ipynb", "later.ipynb", "--jobs=2"],
        cwd=tmp_path, stdin=child_fd, stdout=child_fd, stderr=child_fd, env=env,
    )  # fmt: skip
    os.close(child_fd)
    screen = b""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    os.close(main_fd)
    assert process.wait(30) == 0
    text = strip_ansi(screen.decode(errors="replace"))
    for name in ("slow.ipynb", "later.ipynb"):
        assert f"{name} · cell 1" in text  # the running notebook and its current cell
        assert re.search(rf"passed +{name}", text), f"no outcome line for {name}"
    assert "0/2" in text and "1/2" in text  # the overall bar counted them
    assert text.rstrip().splitlines()[-1].strip().startswith("2 notebooks: 2 passed")


def _render(display: LiveProgress) -> str:
    capture = Console(file=io.StringIO(), width=100)
    with capture.capture() as captured:
        capture.print(display.bar.get_renderable())
    return captured.get()


# -- Ctrl-C -----------------------------------------------------------------------------------


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def kernels_of(pid: int) -> set[int]:
    """The kernel processes ``pid`` started: its children, or those of its kernel image."""
    found = set()
    for child in children_of(pid):
        try:
            image = b"provisioners/image.py" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        found |= children_of(child) if image else {child}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_stops_cleanly_writing_what_ran_and_leaving_no_kernels(tmp_path: Path) -> None:
    started = tmp_path / "started"
    running = code(f"from pathlib import Path\nPath({str(started)!r}).touch()\nprint('first')")
    sleeping = code("import time\nprint('sleeping', flush=True)\ntime.sleep(120)")
    write(tmp_path / "a.ipynb", new_notebook(running, sleeping, code("print('never')")))
    write(tmp_path / "b.ipynb", new_notebook(code("print('b')")))
    process = subprocess.Popen(
        [sys.executable, "-m", "livecells.cli", "run", "--jobs", "1", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), "the first notebook never started"
        kernels = kernels_of(process.pid)
        while len(kernels) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            kernels = kernels_of(process.pid)
        assert len(kernels) == 2  # a's kernel, and b's started ahead of its turn
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    written = nbformat.read(tmp_path / "executed" / "a.ipynb", as_version=4)
    assert texts(written.cells[0]) == "first\n"
    assert texts(written.cells[1]) == "sleeping\n"
    assert written.cells[2]["execution_count"] is None
    assert not (tmp_path / "executed" / "b.ipynb").exists()
    assert "interrupted" in out and "not run" in out
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in kernels) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in kernels)


def test_runtime_pyodide_runs_notebooks_as_the_browser_would(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python in WebAssembly under Node.js: what runs here runs on a built site; what needs the
    author's environment (a missing package, a shell magic) fails here, naming the cell."""
    page_cells = [code("import sys\nprint(sys.platform)"), code("6*7")]
    write(project / "page.ipynb", new_notebook(*page_cells))
    write(project / "local.ipynb", new_notebook(code("import not_installed_here")))
    done = run(capsys, "--runtime", "pyodide", "--json", "page.ipynb", "local.ipynb")
    assert done.status == 1
    page, local = json.loads(done.out)["notebooks"]
    assert page["status"] == "passed"
    assert (local["status"], local["failure"]["ename"]) == ("failed", "ModuleNotFoundError")
    executed = nbformat.read(project / "executed" / "page.ipynb", as_version=4)
    nbformat.validate(executed)
    assert texts(executed.cells[0]) == "emscripten\n"
    assert executed.cells[1].outputs[0]["data"]["text/plain"] == "42"


# -- where executed copies go ------------------------------------------------------------------


def test_an_output_dir_that_would_overwrite_sources_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project / "nbs" / "one.ipynb"
    write(source, new_notebook(code("print(1)")))
    before = source.read_bytes()
    done = run(capsys, "nbs", "--output-dir", ".")
    assert done.status == 2
    assert done.err.strip().splitlines()[-1] == (
        "livecells run: error: nbs/one.ipynb: --output-dir . would overwrite this source with "
        "the executed copy of nbs/one.ipynb; choose another --output-dir (or --inplace to "
        "mean it)"
    )
    assert source.read_bytes() == before


def test_an_output_dir_over_the_sources_is_fine_when_the_names_differ(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "nbs").mkdir()
    (project / "nbs" / "page.md").write_text(
        "---\nkernelspec: {name: python3, display_name: Python 3}\n---\n"
        "```{code-cell} python\nprint('from md')\n```\n"
    )
    done = run(capsys, "nbs", "--output-dir", ".")
    assert done.status == 0, done.err
    executed = nbformat.read(project / "nbs" / "page.ipynb", as_version=4)
    assert texts(executed.cells[0]) == "from md\n"


def test_two_runs_at_once_into_one_output_dir_do_not_collide(project: Path) -> None:
    """Each write has a temporary file of its own: two runs writing the same copies at once
    (CI jobs sharing a folder) both finish, and every copy is whole."""
    for index in range(12):
        big = code(f"print('{index}' * 2_000_000)")
        write(project / "nbs" / f"n{index}.ipynb", new_notebook(big))
    command = [sys.executable, "-m", "livecells", "run", "nbs", "--output-dir", "out", "-j", "4"]
    runs = [
        subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outcomes = [(process.wait(timeout=110), process.stderr.read()) for process in runs]  # type: ignore[union-attr]
    for process in runs:
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert [status for status, _ in outcomes] == [0, 0], outcomes
    for index in range(12):
        executed = nbformat.read(project / "out" / "nbs" / f"n{index}.ipynb", as_version=4)
        assert texts(executed.cells[0]) == f"{index}" * 2_000_000 + "\n"
    assert sorted(path.name for path in (project / "out" / "nbs").iterdir()) == sorted(
        f"n{index}.ipynb" for index in range(12)
    )
