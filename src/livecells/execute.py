"""Executing notebooks headlessly: :func:`run_notebook` runs one on a Kernel; the
``livecells run`` command runs many through :mod:`livecells.batch`.

Outputs, execution counts, ``clear_output``, display updates, disabled stdin and the
``skip-execution`` / ``raises-exception`` tags behave as nbclient's. One deliberate difference:
consecutive stream chunks of one name are merged into one output, as JupyterLab saves them;
nbclient keeps each chunk the kernel happened to flush as its own output, so how many there are
depends on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livecells.errors import LivecellsError
from livecells.outputs import OutputArea
from livecells.runtimes import Kernel

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from livecells.batch import Batch

__all__ = ["Failure", "NotebookResult", "add_arguments", "command", "run_notebook"]

SKIP_TAG = "skip-execution"
RAISES_TAG = "raises-exception"

CellCallback = Callable[[int, int, int], object]
"""``on_cell(cell_index, number, total)``: cell ``number`` of ``total`` runnable ones starts."""


@dataclass
class Failure:
    """Why a notebook stopped (or, with errors allowed, a cell that raised).

    ``cell_index`` is the cell's index in ``notebook.cells`` (from 0), or ``None`` when the
    failure happened outside any cell (kernel start-up, installing requirements).
    """

    cell_index: int | None
    ename: str
    evalue: str
    traceback: list[str] = field(default_factory=list)
    hint: str = ""

    def describe(self) -> str:
        where = f"cell {self.cell_index}: " if self.cell_index is not None else ""
        return f"{where}{self.ename}: {self.evalue}"


@dataclass
class NotebookResult:
    """What :func:`run_notebook` did: the notebook (updated in place) and how its run ended."""

    notebook: NotebookNode
    cells_run: int = 0
    failure: Failure | None = None
    errors: list[Failure] = field(default_factory=list)
    """Cells that raised where errors were allowed (``allow_errors`` or ``raises-exception``)."""

    @property
    def passed(self) -> bool:
        return self.failure is None


def runnable(cell: Any) -> bool:
    """A cell nbclient would execute: code, not blank, not tagged ``skip-execution``."""
    return (
        cell.get("cell_type") == "code"
        and bool(str(cell.get("source", "")).strip())
        and SKIP_TAG not in cell.get("metadata", {}).get("tags", [])
    )


async def run_notebook(
    notebook: NotebookNode,
    kernel: Kernel,
    *,
    timeout: float | None = None,
    allow_errors: bool = False,
    on_cell: CellCallback | None = None,
) -> NotebookResult:
    """Execute ``notebook``'s code cells in order on a started ``kernel``, updating it in place.

    A cell that raises stops the run (``result.failure``) unless ``allow_errors`` is set or the
    cell is tagged ``raises-exception``; so do a cell running past ``timeout`` seconds (it is
    interrupted) and a kernel that dies. Stdin is not available, as in nbclient: ``input()``
    raises. Cancelling leaves the notebook holding what ran, including the running cell's
    outputs so far.
    """
    result = NotebookResult(notebook)
    language_info = kernel.kernel_info.get("language_info")
    if language_info:
        notebook.metadata["language_info"] = language_info
    cells = [(index, cell) for index, cell in enumerate(notebook.cells) if runnable(cell)]
    try:
        await _run_cells(kernel, cells, result, timeout, allow_errors, on_cell)
    finally:
        # Outputs stay plain dicts while cells run (display updates reach them in place);
        # then the notebook gets nbformat nodes, as nbformat.reads would give it.
        from nbformat import from_dict

        for _, cell in cells[: result.cells_run]:
            outputs = cell["outputs"]
            cell["outputs"] = [from_dict(out) for out in outputs]  # type: ignore[no-untyped-call]
    return result


async def _run_cells(
    kernel: Kernel,
    cells: list[tuple[int, NotebookNode]],
    result: NotebookResult,
    timeout: float | None,
    allow_errors: bool,
    on_cell: CellCallback | None,
) -> None:
    for number, (index, cell) in enumerate(cells, 1):
        if on_cell is not None:
            on_cell(index, number, len(cells))
        allows = allow_errors or RAISES_TAG in cell.metadata.get("tags", [])
        area = OutputArea(kernel.displays)
        cell["outputs"] = area.outputs  # the live list: partial outputs survive a cancel
        cell.metadata.pop("execution", None)  # nbclient's timing metadata, stale once re-run
        result.cells_run += 1
        cell["execution_count"] = result.cells_run
        try:
            reply = await kernel.execute(
                cell.source, timeout=timeout, stop_on_error=not allows, area=area
            )
        except LivecellsError as exc:  # timeout, kernel died, connection lost
            result.failure = Failure(index, type(exc).__name__, str(exc))
            break
        error = reply.error
        if error is None and reply.status == "aborted":
            result.failure = Failure(index, "Aborted", "the kernel aborted this cell")
            break
        if error is not None:
            failure = Failure(index, error.ename, error.evalue, error.traceback)
            if not allows:
                result.failure = failure
                break
            result.errors.append(failure)


# -- the command ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="notebooks (.ipynb, MyST .md), directories (searched recursively) or globs",
    )
    parser.add_argument(
        "--runtime",
        choices=["local", "server", "pyodide"],
        default="local",
        help="local kernels (default), a Jupyter Server (--url, --token), or pyodide: Python "
        "in WebAssembly under Node.js, as the readers of a built site run it",
    )
    parser.add_argument("--url", help="the Jupyter Server's base URL (--runtime server)")
    parser.add_argument(
        "--token",
        default=os.environ.get("JUPYTER_TOKEN"),
        help="the Jupyter Server's token (default: $JUPYTER_TOKEN)",
    )
    parser.add_argument(
        "--kernel", metavar="NAME", help="kernel to use (default: each notebook's kernelspec)"
    )
    parser.add_argument(
        "--jobs", "-j", type=_positive_int, default=3, help="notebooks run at once (default: 3)"
    )
    parser.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="per cell (default: no limit)"
    )
    parser.add_argument(
        "--notebook-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="per notebook (default: no limit)",
    )
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="keep going after a cell raises (the error is recorded as its output)",
    )
    parser.add_argument(
        "--output-dir",
        default="executed",
        metavar="DIR",
        help="where executed notebooks go, mirroring the input paths (default: executed/)",
    )
    parser.add_argument(
        "--inplace", action="store_true", help="overwrite .ipynb sources instead of --output-dir"
    )
    parser.add_argument(
        "--install-requirements",
        action="store_true",
        help="pip install the requirements.txt beside each notebook into its kernel first",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")


def command(args: argparse.Namespace) -> int:
    """``livecells run``: exit status 0 if every notebook passed, 1 if one failed, 2 for bad
    input (a one-line error names the file; the other notebooks still run), 130 on Ctrl-C."""
    runtime_options: dict[str, Any] = {}
    if args.runtime == "server":
        if not args.url:
            print("livecells run: error: --runtime server needs --url", file=sys.stderr)
            return 2
        runtime_options = {"url": args.url, "token": args.token}
    _skip_iri_grammars()
    from livecells.batch import Batch
    from livecells.progress import choose_progress, print_report

    progress = choose_progress(sys.stderr)
    batch = Batch(
        args.paths,
        runtime=args.runtime,
        kernel_name=args.kernel,
        jobs=args.jobs,
        timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        allow_errors=args.allow_errors,
        output_dir=args.output_dir,
        inplace=args.inplace,
        install_requirements=args.install_requirements,
        progress=progress,
        runtime_options=runtime_options,
    )
    # On Ctrl-C the batch shuts its kernels down and writes what ran; then we report it.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(_run_until_signalled(batch))
    print_report(batch.report, sys.stdout, as_json=args.json)
    return batch.report.exit_status


async def _run_until_signalled(batch: Batch) -> None:
    """Run ``batch``; SIGTERM stops it as cleanly as Ctrl-C does (kernels down, partial
    notebooks written)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await batch.run()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _skip_iri_grammars() -> None:
    """Keep this process from importing ``rfc3987_syntax``.

    nbformat imports jsonschema, which imports ``rfc3987_syntax`` when it is installed (it is,
    wherever jupyter_server is) to check the "iri" string format, compiling 38 Lark grammars:
    2-3 s of CPU before the first notebook can be read. Notebook validation never checks
    formats, so the command (which owns its process) does without it; the library does not.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value
