"""Parameters as papermill gives them: papermill itself (its Python API, real kernels) is the
reference for the injected cell, its place, its metadata and the outputs that follow."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from papermill.cli import _resolve_type
from papermill.translators import translate_parameters
from tests.test_cli_run import Run, run
from tests.test_execute import code, local, new_notebook, texts, write

from livecells.errors import ConfigError
from livecells.execute import run_notebook
from livecells.parameters import collect_parameters, parameters_source

GIVEN = [
    ("count", "3"),
    ("rate", "0.25"),
    ("flag", "True"),
    ("nothing", "None"),
    ("name", 'Ada "the first" Lovelace'),
    ("big", "1e3"),
]
"""``-p NAME VALUE`` pairs as typed on a command line."""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def parameterised() -> nbformat.NotebookNode:
    return new_notebook(
        "# A report",
        code("import math"),
        code("count = 1\nrate = 0.5\nflag = False\nnothing = 0\nname = 'x'\nbig = 0", "parameters"),
        code("print(count, rate, flag, nothing, name, big)\nprint(type(count).__name__)"),
        code("count * rate"),
    )


def papermill_run(source: Path, output: Path, parameters: dict[str, Any]) -> nbformat.NotebookNode:
    papermill.execute_notebook(
        str(source), str(output), parameters=parameters, progress_bar=False, cwd=str(source.parent)
    )
    return nbformat.read(output, as_version=4)


def livecells_run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    return run(capsys, *args)


def flags(pairs: list[tuple[str, str]]) -> list[str]:
    return [item for name, value in pairs for item in ("-p", name, value)]


def injected(notebook: Any) -> tuple[int, Any]:
    found = [
        (index, cell)
        for index, cell in enumerate(notebook["cells"])
        if "injected-parameters" in cell["metadata"].get("tags", [])
    ]
    assert len(found) == 1, found
    return found[0]


def test_the_injected_cell_and_the_outputs_are_papermills(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(project / "report.ipynb", parameterised())
    reference = papermill_run(
        source, project / "papermill.ipynb", {name: _resolve_type(v) for name, v in GIVEN}
    )
    done = livecells_run(capsys, "report.ipynb", *flags(GIVEN))
    assert done.status == 0, done.out + done.err
    ours = nbformat.read(project / "executed" / "report.ipynb", as_version=4)

    index, cell = injected(ours)
    ref_index, ref_cell = injected(reference)
    assert index == ref_index == 3  # right after the cell tagged "parameters"
    assert cell.source == ref_cell.source
    assert cell.metadata["tags"] == ref_cell.metadata["tags"] == ["injected-parameters"]
    assert [texts(c) for c in ours.cells if c.cell_type == "code"] == [
        texts(c) for c in reference.cells if c.cell_type == "code"
    ]
    assert texts(ours.cells[4]).startswith('3 0.25 True None Ada "the first" Lovelace 1000.0')
    mine, theirs = ours.metadata["papermill"], reference.metadata["papermill"]
    assert mine["parameters"] == theirs["parameters"]
    assert set(theirs) - set(mine) == {"version"}  # papermill's own version: not ours to claim
    assert mine["input_path"] == "report.ipynb"
    assert mine["output_path"] == "executed/report.ipynb"
    assert mine["exception"] is None and mine["duration"] >= 0
    nbformat.validate(ours)


def test_rerunning_an_executed_copy_replaces_its_injected_cell(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(project / "report.ipynb", parameterised())
    first = papermill_run(source, project / "once.ipynb", {"count": 5})
    again = papermill_run(project / "once.ipynb", project / "twice.ipynb", {"count": 7})
    assert livecells_run(capsys, "once.ipynb", "-p", "count", "7").status == 0
    ours = nbformat.read(project / "executed" / "once.ipynb", as_version=4)
    index, cell = injected(ours)
    assert (index, cell.source) == (injected(again)[0], injected(again)[1].source)
    assert len(ours.cells) == len(first.cells) == len(again.cells)
    assert texts(ours.cells[index + 1]).startswith("7 ")


def test_a_bash_notebook_gets_papermills_bash_assignments(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = new_notebook(
        code("greeting=hi\ncount=1", "parameters"),
        code('echo "$greeting $count"'),
        kernel="bash",
    )
    notebook.metadata["kernelspec"]["language"] = "bash"
    source = write(project / "script.ipynb", notebook)
    given = [("greeting", "hello world; rm -rf /"), ("count", "42")]
    reference = papermill_run(
        source, project / "papermill.ipynb", {n: _resolve_type(v) for n, v in given}
    )
    assert livecells_run(capsys, "script.ipynb", *flags(given)).status == 0
    ours = nbformat.read(project / "executed" / "script.ipynb", as_version=4)
    assert injected(ours)[1].source == injected(reference)[1].source
    assert texts(ours.cells[2]) == texts(reference.cells[2]) == "hello world; rm -rf / 42\n"


@pytest.mark.parametrize(
    ("kernel", "language"),
    [("python3", "python"), ("ir", "R"), ("bash", "bash"), ("julia-1.10", "julia")],
)
def test_each_translator_writes_what_papermills_writes(kernel: str, language: str) -> None:
    values: dict[str, Any] = {
        "_private": 1,
        "text": 'quote " backslash \\ newline \n unicode é',
        "whole": -12,
        "real": 3.5,
        "yes": True,
        "no": False,
        "missing": None,
        "items": [1, "two", 3.0] if language != "bash" else ["a b", "c"],
    }
    if language != "bash":
        values["nested"] = {"a": [1, {"b": None}], "c": "d"}
    if language == "python":
        values.update({"nan": math.nan, "inf": math.inf, "minf": -math.inf})
    assert parameters_source(values, kernel_name=kernel, language=language) == (
        translate_parameters(kernel, language, values, "Parameters")
    )


def test_a_kernel_without_a_translator_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = new_notebook(code("x = 1", "parameters"), kernel="python3")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Haskell"}
    notebook.metadata["language_info"] = {"name": "haskell"}
    notebook.metadata["kernelspec"]["name"] = "ihaskell"
    write(project / "lambda.ipynb", notebook)
    done = livecells_run(capsys, "lambda.ipynb", "--kernel", "python3", "-p", "x", "2")
    assert done.status == 2
    errors = [line for line in done.err.splitlines() if "error" in line]
    assert errors == [
        "livecells run: error: lambda.ipynb: cannot inject parameters for kernel 'python3' "
        "(language 'haskell'): livecells writes parameters in Julia, Python, R, bash"
    ]


def test_without_a_parameters_cell_papermills_warning_and_the_cell_goes_first(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(project / "plain.ipynb", new_notebook(code("print(level)")))
    reference = papermill_run(source, project / "papermill.ipynb", {"level": 3})
    done = livecells_run(capsys, "plain.ipynb", "-p", "level", "3")
    assert done.status == 0
    warnings = [line for line in done.err.splitlines() if "warning" in line]
    assert warnings == [
        "livecells run: warning: plain.ipynb: "
        "Input notebook does not contain a cell with tag 'parameters'"
    ]
    ours = nbformat.read(project / "executed" / "plain.ipynb", as_version=4)
    assert injected(ours)[0] == injected(reference)[0] == 0
    assert texts(ours.cells[1]) == texts(reference.cells[1]) == "3\n"


def test_parameters_typed_as_papermill_types_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    words = ["1", "-2", "1.5", "1e-3", "nan", "True", "False", "None", "true", "x1", ""]
    given = [(f"v{i}", word) for i, word in enumerate(words)]
    write(project / "p.ipynb", new_notebook(code("pass", "parameters")))
    done = livecells_run(capsys, "p.ipynb", *flags(given), "-r", "raw", "1", "--json")
    assert done.status == 0
    ours = nbformat.read(project / "executed" / "p.ipynb", as_version=4)
    expected = {name: _resolve_type(word) for name, word in given} | {"raw": "1"}
    recorded = ours.metadata["papermill"]["parameters"]
    assert json.dumps(recorded, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_files_then_yaml_then_p_then_r_as_papermill_merges_them(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text("a: 1\nb: 1\nc: 1\nd: 1\nwhen: 2024-01-31\n")
    merged = collect_parameters(
        files=[first],
        yaml_texts=["b: 2\nc: 2\nd: 2"],
        typed=[("c", "3"), ("d", "3")],
        raw=[("d", "4")],
    )
    assert merged == {"a": 1, "b": 2, "c": 3, "d": "4", "when": "2024-01-31"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-y", "a: [1, 2"], "-y: parameters are not valid YAML at line 1 column 9"),
        (["-y", "- just\n- a list"], "-y: parameters must be a YAML mapping of names to values"),
        (["-f", "bad.yaml"], "bad.yaml: parameters are not valid YAML at line 3 column 1"),
        (["-f", "missing.yaml"], "missing.yaml: cannot read the parameters file"),
    ],
)
def test_malformed_parameters_are_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (project / "bad.yaml").write_text("a: 'open\nb: 2\n")
    write(project / "p.ipynb", new_notebook(code("pass", "parameters")))
    done = livecells_run(capsys, "p.ipynb", *args)
    assert done.status == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"livecells run: error: {message}")
    assert not (project / "executed").exists()  # nothing ran


def test_a_malformed_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 'open\nb: 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: parameters are not valid YAML"):
        collect_parameters(files=[bad])


async def test_run_notebook_takes_parameters(tmp_path: Path) -> None:
    notebook = parameterised()
    async with local("python3", tmp_path) as kernel:
        result = await run_notebook(notebook, kernel, parameters={"count": 10, "rate": 0.1})
    assert result.passed and result.warnings == []
    index, cell = injected(notebook)
    assert index == 3 and cell.source == "# Parameters\ncount = 10\nrate = 0.1\n"
    assert texts(notebook.cells[5]) == "1.0\n"
