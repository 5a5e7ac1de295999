"""Executing one notebook headlessly on a Kernel: :func:`run_notebook`, the bottom of the
stack (:mod:`livecells.batch` runs many; the ``livecells run`` command drives a batch).

Outputs, execution counts, ``clear_output``, display updates, disabled stdin and the
``skip-execution`` / ``raises-exception`` tags behave as nbclient's. One deliberate difference:
consecutive stream chunks of one name are merged into one output, as JupyterLab saves them;
nbclient keeps each chunk the kernel happened to flush as its own output, so how many there are
depends on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livecells.errors import LivecellsError
from livecells.outputs import OutputArea
from livecells.parameters import inject_parameters
from livecells.runtimes import Kernel

if TYPE_CHECKING:
    from nbformat import NotebookNode


__all__ = ["Failure", "NotebookResult", "run_notebook"]

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
    warnings: list[str] = field(default_factory=list)

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
    parameters: Mapping[str, Any] | None = None,
    on_cell: CellCallback | None = None,
) -> NotebookResult:
    """Execute ``notebook``'s code cells in order on a started ``kernel``, updating it in place.

    A cell that raises stops the run (``result.failure``) unless ``allow_errors`` is set or the
    cell is tagged ``raises-exception``; so do a cell running past ``timeout`` seconds (it is
    interrupted) and a kernel that dies. Stdin is not available, as in nbclient: ``input()``
    raises. Cancelling leaves the notebook holding what ran, including the running cell's
    outputs so far. Each cell run gets nbclient's timing metadata (``metadata.execution``).

    ``parameters`` are injected first, as papermill injects them (see
    :func:`livecells.parameters.inject_parameters`), in the kernel's language; papermill's
    warning for a notebook without a ``parameters`` cell lands in ``result.warnings``.
    """
    result = NotebookResult(notebook)
    language_info = kernel.kernel_info.get("language_info")
    if parameters:
        language = (language_info or {}).get("name")
        warning = inject_parameters(notebook, parameters, language=language)
        if warning:
            result.warnings.append(warning)
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
        cell.metadata.pop("execution", None)  # nbclient's timing, set again once it ran
        result.cells_run += 1
        cell["execution_count"] = result.cells_run
        try:
            reply = await kernel.execute(
                cell.source, timeout=timeout, stop_on_error=not allows, area=area
            )
        except LivecellsError as exc:  # timeout, kernel died, connection lost
            if exc.partial is not None:
                cell.metadata["execution"] = exc.partial.timing
            result.failure = Failure(index, type(exc).__name__, str(exc))
            break
        cell.metadata["execution"] = reply.timing
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
