"""How ``livecells run`` shows a batch: live progress while notebooks run, and the report
(a table, or JSON) when they end.

On a terminal, a rich display: an overall bar and one line per running notebook with its current
cell. Elsewhere (CI logs, pipes), one plain line when a notebook starts and one when it ends.
The display refreshes from an asyncio task, not rich's refresh thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichBar
from rich.table import Table
from rich.text import Text

from livecells.reports import BatchReport, NotebookReport, Progress, strip_ansi

__all__ = [
    "LiveProgress",
    "PlainProgress",
    "choose_progress",
    "outcome_line",
    "print_failures",
    "print_report",
    "warning_lines",
]

REFRESH_INTERVAL = 0.1
STYLES = {
    "passed": "green",
    "cached": "cyan",
    "failed": "red",
    "error": "red",
    "interrupted": "yellow",
    "not run": "yellow",
}


def choose_progress(stream: TextIO) -> Progress:
    """The live display on a terminal, plain lines otherwise."""
    if stream.isatty():
        return LiveProgress(Console(file=stream))
    return PlainProgress(stream)


def warning_lines(report: NotebookReport) -> list[str]:
    """One line per warning about a notebook, naming it."""
    return [f"livecells run: warning: {report.source}: {text}" for text in report.warnings]


def outcome_line(report: NotebookReport) -> str:
    """One line saying how a notebook ended."""
    if report.status == "error":
        return f"livecells run: error: {report.message}"
    if report.status == "cached":
        return f"cached   {report.source} ({report.cells_total} cells, from the cache)"
    if report.status == "passed":
        allowed = f", {len(report.errors)} allowed errors" if report.errors else ""
        return (
            f"passed   {report.source} ({report.cells_run} cells{allowed}, {report.duration:.1f} s)"
        )
    return f"{report.status:<8} {report.message or report.source}"


class PlainProgress:
    """One line per notebook start and end, flushed at once (for logs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def begin(self, reports: Sequence[NotebookReport]) -> None:
        pass

    def started(self, report: NotebookReport) -> None:
        self._print(f"running  {report.source} ({report.kernel_name})")

    def cell(self, report: NotebookReport) -> None:
        pass

    def finished(self, report: NotebookReport) -> None:
        for line in warning_lines(report):
            self._print(line)
        self._print(strip_ansi(outcome_line(report)))

    def end(self, report: BatchReport) -> None:
        pass


class LiveProgress:
    """An overall bar plus one line per running notebook showing its current cell."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = RichBar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
        )
        self._overall: TaskID | None = None
        self._lines: dict[int, TaskID] = {}
        self._refresher: asyncio.Task[None] | None = None

    def begin(self, reports: Sequence[NotebookReport]) -> None:
        self._overall = self.bar.add_task("notebooks", total=len(reports))
        self.bar.start()
        self._refresher = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        while True:
            self.bar.refresh()
            await asyncio.sleep(REFRESH_INTERVAL)

    def started(self, report: NotebookReport) -> None:
        self._lines[id(report)] = self.bar.add_task(
            f"  {report.source}", total=max(report.cells_total, 1)
        )

    def cell(self, report: NotebookReport) -> None:
        line = self._lines.get(id(report))
        if line is not None:
            self.bar.update(
                line,
                completed=report.cells_run,
                description=f"  {report.source} · cell {report.current_cell}",
            )

    def finished(self, report: NotebookReport) -> None:
        line = self._lines.pop(id(report), None)
        if line is not None:
            self.bar.remove_task(line)
        if self._overall is not None:
            self.bar.advance(self._overall)
        for warning in warning_lines(report):
            self.console.print(Text(warning, style="yellow"))
        text = Text.from_ansi(outcome_line(report))
        text.stylize(STYLES.get(report.status, ""), 0, 8)
        self.console.print(text)

    def end(self, report: BatchReport) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        with contextlib.suppress(Exception):
            self.bar.stop()


def print_failures(report: BatchReport, stream: TextIO) -> None:
    """Each failed notebook: a rule naming it, its cell and error, then the traceback."""
    _failures(report, Console(file=stream, width=None if stream.isatty() else 120))


def _failures(report: BatchReport, console: Console) -> None:
    for item in report.notebooks:
        failure = item.failure
        if failure is None:
            continue
        console.rule(Text(f"{item.source}, {failure.describe()}", style="bold red"), align="left")
        if failure.traceback:
            console.print(Text.from_ansi("\n".join(failure.traceback)))
        if failure.hint:
            console.print(Text(f"hint: {failure.hint}", style="yellow"))


def print_report(report: BatchReport, stream: TextIO, *, as_json: bool = False) -> None:
    """The end-of-run report: failures with their tracebacks, then a summary table (or JSON)."""
    if as_json:
        json.dump(report.to_json(), stream, indent=2)
        stream.write("\n")
        stream.flush()
        return
    console = Console(file=stream, width=None if stream.isatty() else 120)
    _failures(report, console)
    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("notebook", overflow="fold")
    table.add_column("status")
    table.add_column("cells", justify="right")
    table.add_column("time", justify="right")
    table.add_column("output / problem", overflow="fold")
    for item in report.notebooks:
        detail = str(item.output or "")
        if item.status in ("error", "failed", "interrupted"):
            detail = item.message.removeprefix(f"{item.source}: ")
        cells = f"{item.cells_run}/{item.cells_total}" if item.status != "error" else ""
        table.add_row(
            str(item.source),
            Text(item.status, style=STYLES.get(item.status, "")),
            cells,
            f"{item.duration:.1f} s" if item.status != "error" else "",
            detail,
        )
    console.print(table)
    counts = ", ".join(f"{count} {status}" for status, count in report.counts().items())
    total = len(report.notebooks)
    console.print(
        f"{total} notebook{'s' if total != 1 else ''}: {counts or 'none'} "
        f"in {report.duration:.1f} s"
    )
