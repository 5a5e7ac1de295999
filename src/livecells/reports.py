"""What a batch of notebooks reports: one :class:`NotebookReport` per input, a
:class:`BatchReport` for the run (with its exit status and JSON), and the :class:`Progress`
protocol a display implements to follow the run as it happens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from livecells.execute import Failure

__all__ = ["BatchReport", "NotebookReport", "Outcome", "Progress", "strip_ansi"]

ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


Outcome = Literal[
    "pending", "running", "passed", "cached", "failed", "error", "interrupted", "not run"
]
"""``cached``: not run, its outputs taken from the execution cache (it passed before)."""


@dataclass
class NotebookReport:
    """One input of a batch: a notebook, or a path that named no notebook (status ``error``)."""

    source: Path
    status: Outcome = "pending"
    output: Path | None = None
    kernel_name: str | None = None
    cells_run: int = 0
    cells_total: int = 0
    current_cell: int | None = None
    duration: float = 0.0
    failure: Failure | None = None
    errors: list[Failure] = field(default_factory=list)
    message: str = ""
    """One line for ``error``/``failed``: what went wrong, naming the file."""
    warnings: list[str] = field(default_factory=list)
    """One line each, e.g. papermill's for a notebook without a ``parameters`` cell."""

    def to_json(self) -> dict[str, Any]:
        def failure(item: Failure) -> dict[str, Any]:
            return {
                "cell_index": item.cell_index,
                "ename": item.ename,
                "evalue": item.evalue,
                "traceback": [strip_ansi(line) for line in item.traceback],
                "hint": item.hint,
            }

        return {
            "source": str(self.source),
            "status": self.status,
            "output": None if self.output is None else str(self.output),
            "kernel": self.kernel_name,
            "cells_run": self.cells_run,
            "cells_total": self.cells_total,
            "duration": round(self.duration, 3),
            "message": self.message,
            "failure": None if self.failure is None else failure(self.failure),
            "allowed_errors": [failure(item) for item in self.errors],
            "warnings": list(self.warnings),
        }


@dataclass
class BatchReport:
    notebooks: list[NotebookReport] = field(default_factory=list)
    duration: float = 0.0

    @property
    def exit_status(self) -> int:
        """130 if interrupted, 2 if an input was bad, 1 if a notebook failed, else 0 (every
        notebook passed, or was cached)."""
        statuses = {report.status for report in self.notebooks}
        if statuses & {"interrupted", "not run"}:
            return 130
        if "error" in statuses:
            return 2
        if "failed" in statuses:
            return 1
        return 0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for report in self.notebooks:
            counts[report.status] = counts.get(report.status, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "notebooks": [report.to_json() for report in self.notebooks],
            "summary": {
                "total": len(self.notebooks),
                **self.counts(),
                "duration": round(self.duration, 3),
                "exit_status": self.exit_status,
            },
        }


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes (kernels colour their tracebacks)."""
    return ANSI_ESCAPE.sub("", text)


class Progress(Protocol):
    """What a batch tells its display; every method is called on the event loop."""

    def begin(self, reports: Sequence[NotebookReport]) -> None: ...
    def started(self, report: NotebookReport) -> None: ...
    def cell(self, report: NotebookReport) -> None: ...
    def finished(self, report: NotebookReport) -> None: ...
    def end(self, report: BatchReport) -> None: ...
