"""Runtime ``pyodide``: the browser's Pyodide kernel, run by Node.js, against the Kernel contract.

One kernel serves the semantics tests (booting Pyodide costs seconds); interrupt, restart and
packages get their own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import nbformat
import pytest
import pytest_asyncio
from tests.runtimes.conftest import interrupt_busy_loop
from tests.wheelfactory import make_wheel

import livecells
from livecells.assets import STATIC_DIR
from livecells.config import PYODIDE_TIMEOUT_MS
from livecells.errors import KernelNotFound, RuntimeNotAvailable
from livecells.node import node_executable
from livecells.runtimes.base import Kernel
from livecells.runtimes.pyodide import PyodideKernel

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kernel() -> AsyncIterator[Kernel]:
    async with livecells.connect("pyodide", on_input=lambda prompt, password: "Ada") as started:
        yield started


async def test_kernel_info_names_pyodide(kernel: Kernel) -> None:
    assert kernel.kernel_info["implementation"] == "livecells-pyodide"
    assert kernel.kernel_info["language_info"]["name"] == "python"


async def test_last_expression_is_the_result_unless_it_ends_with_a_semicolon(
    kernel: Kernel,
) -> None:
    result = await kernel.execute("x = 6\nx * 7")
    assert result.outputs == [
        {
            "output_type": "execute_result",
            "data": {"text/plain": "42"},
            "metadata": {},
            "execution_count": result.execution_count,
        }
    ]
    assert (await kernel.execute("x * 7;")).outputs == []
    assert (await kernel.execute("x * 7  # a comment")).outputs[0]["data"]["text/plain"] == "42"
    assert (await kernel.execute("_")).outputs[0]["data"]["text/plain"] == "42"


async def test_execution_counts_increase_and_silent_runs_do_not_count() -> None:
    async with livecells.connect("pyodide") as fresh:
        first = await fresh.execute("1")
        await fresh.execute("2", silent=True)
        second = await fresh.execute("3")
    assert (first.execution_count, second.execution_count) == (1, 2)
    assert second.outputs[0]["execution_count"] == 2


async def test_stdout_streams_while_the_cell_runs(kernel: Kernel) -> None:
    seen: list[float] = []
    code = (
        "import time\nprint('first')\n"
        "t = time.time()\nwhile time.time() - t < 1: pass\nprint('second')"
    )
    started = time.perf_counter()
    result = await kernel.execute(code, on_output=lambda _: seen.append(time.perf_counter()))
    ended = time.perf_counter()
    assert result.stdout == "first\nsecond\n"
    assert seen[0] - started < ended - started - 0.5, "the first line waited for the cell"


async def test_stderr_is_its_own_stream(kernel: Kernel) -> None:
    result = await kernel.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert [(o["name"], o["text"]) for o in result.outputs] == [
        ("stdout", "out\n"),
        ("stderr", "err\n"),
    ]


async def test_display_and_rich_reprs(kernel: Kernel) -> None:
    code = """
class Rich:
    def _repr_html_(self): return '<b>rich</b>'
    def _repr_markdown_(self): return '*rich*'
class Bundle:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {'text/plain': 'bundle', 'application/json': {'a': 1}}
from IPython.display import display, HTML, SVG, Image, Math
display(Rich(), Bundle())
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"/>'), Math('x^2'))
display(Image(data=b'\\x89PNG\\r\\n', format='png'))
Rich()
"""
    result = await kernel.execute(code)
    assert result.status == "ok", result.outputs
    kinds = [o["output_type"] for o in result.outputs]
    assert kinds == ["display_data"] * 5 + ["execute_result"]
    rich, bundle, svg, math, image, last = (o["data"] for o in result.outputs)
    assert rich["text/html"] == "<b>rich</b>" and rich["text/markdown"] == "*rich*"
    assert bundle == {"text/plain": "bundle", "application/json": {"a": 1}}
    assert svg["image/svg+xml"].startswith("<svg") and math["text/latex"] == "$\\displaystyle x^2$"
    assert image["image/png"] == "iVBORw0K"
    assert last["text/html"] == "<b>rich</b>"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code, outputs=result.outputs, execution_count=1)]
    )
    nbformat.validate(nbformat.from_dict(notebook))


async def test_display_id_updates_replace_the_output(kernel: Kernel) -> None:
    code = "h = display('one', display_id=True)\nh.update('two')"
    result = await kernel.execute(code)
    assert [o["data"]["text/plain"] for o in result.outputs] == ["'two'"]


async def test_clear_output_wait_clears_before_the_next_output(kernel: Kernel) -> None:
    code = (
        "from IPython.display import clear_output\n"
        "print('old')\nclear_output(wait=True)\nprint('new')"
    )
    assert (await kernel.execute(code)).stdout == "new\n"


async def test_errors_show_the_cells_frames_and_not_the_runtimes(kernel: Kernel) -> None:
    result = await kernel.execute("def inner():\n    return 1 / 0\n\ninner()")
    assert result.status == "error"
    error = result.outputs[-1]
    assert (error["ename"], error["evalue"]) == ("ZeroDivisionError", "division by zero")
    text = "\n".join(error["traceback"])
    assert "Cell \x1b[32mIn[" in text and "return 1 / 0" in text and "----> 4" in text
    for hidden in ("_pyodide", "livecells_kernel", "pyodide.asm"):
        assert hidden not in text


async def test_syntax_errors_point_at_the_cell(kernel: Kernel) -> None:
    result = await kernel.execute("def broken(:\n    pass")
    error = result.outputs[-1]
    assert error["ename"] == "SyntaxError"
    assert "Cell In[" in "\n".join(error["traceback"])


async def test_top_level_await(kernel: Kernel) -> None:
    result = await kernel.execute("import asyncio\nawait asyncio.sleep(0.01)\n'awaited'")
    assert result.outputs[-1]["data"]["text/plain"] == "'awaited'"


async def test_input_is_answered_by_the_client(kernel: Kernel) -> None:
    result = await kernel.execute("name = input('Who? ')\nprint('hello', name)")
    assert result.stdout == "hello Ada\n"


async def test_input_without_a_handler_raises_like_ipykernel(kernel: Kernel) -> None:
    kernel.on_input = None
    try:
        result = await kernel.execute("input('?')")
    finally:
        kernel.on_input = lambda prompt, password: "Ada"
    assert result.outputs[-1]["ename"] == "StdinNotImplementedError"


async def test_a_missing_module_says_how_to_get_it(kernel: Kernel) -> None:
    error = (await kernel.execute("import not_a_real_package")).outputs[-1]
    assert error["ename"] == "ModuleNotFoundError"
    assert "project.livecells.packages" in error["evalue"]


async def test_a_missing_compiled_package_is_sent_to_pyodides_distribution(
    kernel: Kernel,
) -> None:
    """`packages` takes pure-Python wheels: matplotlib (compiled, built by Pyodide) is not
    advised there."""
    error = (await kernel.execute("import matplotlib.pyplot")).outputs[-1]
    assert error["ename"] == "ModuleNotFoundError"
    assert "Pyodide builds 'matplotlib'" in error["evalue"]
    assert "/full/) as a further project.livecells.pyodide.indexURL" in error["evalue"]
    assert "project.livecells.packages" not in error["evalue"]


async def test_magics_only_where_the_cell_is_not_python(kernel: Kernel) -> None:
    assert (await kernel.execute("%matplotlib inline\n1")).status == "ok"
    error = (await kernel.execute("%ls")).outputs[-1]
    assert error["ename"] == "NotImplementedError" and error["evalue"].startswith("%ls is")
    text = await kernel.execute("s = '''\n%ls stays\n'''\nprint(s.strip())")
    assert text.stdout == "%ls stays\n"


async def test_a_failed_cell_aborts_the_cells_queued_behind_it(kernel: Kernel) -> None:
    # The failing cell runs for a moment, so the next request is surely queued behind it.
    slow_failure = "import time\nt = time.time()\nwhile time.time() - t < 0.5: pass\n1/0"
    failing = asyncio.create_task(kernel.execute(slow_failure))
    queued = asyncio.create_task(kernel.execute("'never'"))
    assert (await failing).status == "error"
    assert (await queued).status == "aborted"
    assert (await kernel.execute("'again'")).status == "ok"


async def test_interrupt_and_restart() -> None:
    async with livecells.connect("pyodide") as kernel:
        await kernel.execute("state = 1")
        result = await interrupt_busy_loop(kernel)
        assert result.status == "error" and result.outputs[-1]["ename"] == "KeyboardInterrupt"
        assert (await kernel.execute("state")).outputs[0]["data"]["text/plain"] == "1"
        await kernel.restart()
        assert (await kernel.execute("'state' in dir()")).outputs[0]["data"][
            "text/plain"
        ] == "False"


async def test_packages_from_local_wheels_are_installed_before_the_first_cell(
    tmp_path: Path,
) -> None:
    wheel = make_wheel(
        tmp_path, "greeting", "1.0", "def hello():\n    return 'hello from a wheel'\n"
    )
    async with livecells.connect("pyodide", packages=[str(wheel)]) as kernel:
        result = await kernel.execute("import greeting\ngreeting.hello()")
    assert result.outputs[-1]["data"]["text/plain"] == "'hello from a wheel'"


async def test_other_languages_are_refused() -> None:
    with pytest.raises(KernelNotFound, match="Python only"):
        livecells.connect("pyodide", kernel_name="bash")


async def test_a_node_too_old_is_refused_before_anything_starts(tmp_path: Path) -> None:
    old = tmp_path / "node"
    old.write_text("#!/bin/sh\necho v16.20.2\n")
    old.chmod(0o755)
    with pytest.raises(RuntimeNotAvailable, match=r"is Node\.js 16\.20; livecells needs 18"):
        async with livecells.connect("pyodide", node=str(old)):
            pass


async def test_an_unloadable_pyodide_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeNotAvailable, match="could not be loaded"):
        async with livecells.connect("pyodide", index_urls=[str(tmp_path) + "/"]):
            pass


def _nodes() -> list[str]:
    """The Node.js livecells uses (the wheel's), and a system one of another major version when
    there is one (then both paths, with and without JSPI, are tested)."""
    chosen = node_executable()
    found = [chosen]
    system = shutil.which("node")
    if system and _major(system) != _major(chosen):
        found.append(system)
    return found


def _major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


@pytest.mark.parametrize("node", _nodes())
async def test_stack_switching_is_as_in_chromium_where_node_has_it_and_said_where_not(
    caplog: pytest.LogCaptureFixture, node: str
) -> None:
    """Node.js 24+ gets JSPI, as Chromium has it: ``run_sync`` works in a cell. Older Node.js
    runs Python as a browser without JSPI does, and the kernel's log says so."""
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    with caplog.at_level(logging.WARNING, logger="livecells"):
        async with livecells.connect("pyodide", node=node) as kernel:
            result = await kernel.execute(
                "import time\nfrom pyodide.ffi import can_run_sync\n"
                "time.sleep(0.1)\nprint(can_run_sync())"
            )
    warnings = [r.getMessage() for r in caplog.records if "Promise Integration" in r.getMessage()]
    if _major(node) >= 24:
        assert result.outputs == [{"output_type": "stream", "name": "stdout", "text": "True\n"}]
        assert warnings == []
    else:
        assert result.outputs == [{"output_type": "stream", "name": "stdout", "text": "False\n"}]
        assert warnings == [
            f"pyodide: Node.js {version.lstrip('v')} has no JavaScript Promise Integration "
            "(Node.js 24 or newer has, as Chromium does): time.sleep busy-waits and run_sync "
            "raises here, as in a browser without it"
        ]


async def test_loading_pyodide_from_a_place_that_never_answers_times_out(tmp_path: Path) -> None:
    """Every wait has a timeout: Pyodide's files from a place that never delivers them (its
    snapshot a named pipe nobody writes) fail the start after ``boot_timeout``, by default
    120 s."""
    assert PyodideKernel().boot_timeout == PYODIDE_TIMEOUT_MS / 1000 == 120
    (tmp_path / "pyodide.mjs").symlink_to(STATIC_DIR / "pyodide" / "pyodide.mjs")
    os.mkfifo(tmp_path / "livecells-snapshot.bin")
    stalled = f"{tmp_path}/"
    with pytest.raises(RuntimeNotAvailable, match="took longer than 2000 ms"):
        async with livecells.connect("pyodide", index_urls=[stalled], boot_timeout=2):
            pass
