"""Running many notebooks at once: :func:`run_many` and the :class:`Batch` behind
``livecells run``.

Each notebook gets its own kernel, started ``jobs`` places ahead of its turn (a warm pool) so
that kernel start-up leaves the critical path; a kernel is never reused across notebooks. Each
notebook is written once, when it ends: passed, failed, or stopped by Ctrl-C with what ran.
Problems with one input (unreadable, not a notebook, unknown kernel) are reported and the other
notebooks still run.

With ``parameters``, each notebook gets papermill's injected cell before it runs (and before
its cache key is taken). With a ``cache`` folder (jupyter-cache's format, :mod:`livecells.cache`),
a notebook whose key is unchanged is not run: its cached outputs are written as if it had
been, and it reports ``cached``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from livecells.cache import ExecutionCache, fingerprint
from livecells.errors import CacheError, ConfigError, KernelNotFound, NotebookError
from livecells.execute import Failure, run_notebook, runnable
from livecells.notebooks import (
    find_notebooks,
    output_path,
    peek_notebook,
    read_notebook,
    write_notebook,
)
from livecells.parameters import inject_parameters, record_run
from livecells.reports import BatchReport, NotebookReport, Progress
from livecells.runtimes import Kernel, Status, connect

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["Batch", "BatchOptions", "run_many"]

REQUIREMENTS = "requirements.txt"
INSTALL_TIMEOUT = 600.0
INTERRUPT_GRACE = 3.0
NOTEBOOK_TIMEOUT = "NotebookTimeout"


@dataclass
class _Job:
    report: NotebookReport
    kernel_name: str
    output: Path
    requirements: Path
    """The ``requirements.txt`` beside the notebook (it may not exist), as an absolute path."""
    notebook: NotebookNode | None = None
    """Read in full (and validated) once its kernel is starting; MyST pages are read up front."""
    kernel: Kernel | None = None
    """Its kernel, from the moment the lineup begins to start it."""
    prepared: bool = False
    """True once read in full, with its parameters injected."""
    cache_key: str | None = None


@dataclass
class _Started:
    kernel: Kernel
    idle: asyncio.Event
    """Set while the kernel is idle (it reports busy/idle through ``on_status``)."""
    failure: Failure | None = None


class _Lineup:
    """Jobs in order, each one's kernel starting ``ahead`` places before a worker takes it."""

    def __init__(self, jobs: Iterable[_Job], start: Callable[[_Job], Any], *, ahead: int) -> None:
        self._waiting = deque(jobs)
        self._start = start
        self._ahead = ahead
        self._ready: deque[tuple[_Job, asyncio.Task[_Started]]] = deque()

    def take(self) -> tuple[_Job, asyncio.Task[_Started]] | None:
        self._fill()
        if not self._ready:
            return None
        item = self._ready.popleft()
        self._fill()
        return item

    def _fill(self) -> None:
        while self._waiting and len(self._ready) < self._ahead:
            job = self._waiting.popleft()
            self._ready.append((job, asyncio.ensure_future(self._start(job))))

    async def launched(self) -> None:
        """Fill the lineup and wait until each kernel in it has been launched (or failed to).

        The first notebook read imports nbformat, seconds of CPU on some installs that would
        otherwise hold the first kernels back: launched first, they boot meanwhile.
        """
        self._fill()
        await asyncio.sleep(0)  # each start task runs to its first wait: its job.kernel is set
        for job, task in self._ready:
            if job.kernel is not None and not task.done():
                launched = asyncio.ensure_future(job.kernel.launched.wait())
                await asyncio.wait([launched, task], return_when=asyncio.FIRST_COMPLETED)
                launched.cancel()

    def left(self) -> list[_Job]:
        return [job for job, _ in self._ready] + list(self._waiting)

    async def close(self) -> None:
        """Stop every kernel started ahead that no worker took."""
        tasks = [task for _, task in self._ready]
        self._ready.clear()
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, _Started):
                await outcome.kernel.shutdown()


@dataclass(frozen=True, kw_only=True)
class BatchOptions:
    """How a batch runs: ``livecells run``'s flags, and the keyword arguments of
    :func:`run_many`.

    ``runtime_options`` go to :func:`livecells.connect` (e.g. ``url`` and ``token`` for the
    ``server`` runtime); executed copies go to ``output_dir`` (mirroring the source paths), or
    over ``.ipynb`` sources with ``inplace``.
    """

    runtime: str = "local"
    kernel_name: str | None = None
    jobs: int = 3
    timeout: float | None = None
    notebook_timeout: float | None = None
    allow_errors: bool = False
    output_dir: Path = Path("executed")
    inplace: bool = False
    install_requirements: bool = False
    runtime_options: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Injected into every notebook as papermill does (:mod:`livecells.parameters`)."""
    cache: Path | None = None
    """A jupyter-cache folder: notebooks whose key is unchanged are not run again."""

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ConfigError(f"jobs must be at least 1, not {self.jobs}")
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        if self.cache is not None:
            object.__setattr__(self, "cache", Path(self.cache))


class Batch:
    """One ``livecells run``: its options, and the report it fills in as notebooks finish."""

    def __init__(
        self,
        paths: Iterable[str | Path],
        options: BatchOptions | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.paths = list(paths)
        self.options = options or BatchOptions()
        self.progress = progress
        self.report = BatchReport()
        self._install_lock = asyncio.Lock()
        self._shutdowns: set[asyncio.Task[None]] = set()
        self._cache: ExecutionCache | None = None

    async def run(self) -> BatchReport:
        """Run the batch. Raises :class:`~livecells.errors.CacheError` before running anything
        when the cache folder cannot be used."""
        began = time.perf_counter()
        if self.options.cache is not None:
            self._cache = ExecutionCache.open(self.options.cache)
        jobs = self._prepare()
        if self._cache is not None:
            self._cache.flush()
        if self.progress is not None:
            self.progress.begin(self.report.notebooks)
            for report in self.report.notebooks:
                if report.status in ("error", "cached"):
                    self.progress.finished(report)
        lineup = _Lineup(jobs, self._start_kernel, ahead=self.options.jobs)
        try:
            await lineup.launched()
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.options.jobs, len(jobs))):
                    group.create_task(self._work(lineup))
        finally:
            for job in lineup.left():
                job.report.status = "not run"
            await lineup.close()
            if self._shutdowns:
                await asyncio.gather(*self._shutdowns, return_exceptions=True)
            self.report.duration = time.perf_counter() - began
            if self.progress is not None:
                self.progress.end(self.report)
        return self.report

    def _prepare(self) -> list[_Job]:
        exclude = [] if self.options.inplace else [self.options.output_dir]
        found = find_notebooks(self.paths, exclude=exclude)
        for given, problem in found.problems:
            self.report.notebooks.append(
                NotebookReport(source=Path(given), status="error", message=str(problem))
            )
        self._refuse_overwrites(found.notebooks)
        jobs: list[_Job] = []
        for path in found.notebooks:
            report = NotebookReport(source=path)
            self.report.notebooks.append(report)
            try:
                document = peek_notebook(path)
            except NotebookError as exc:
                report.status = "error"
                report.message = str(exc)
                continue
            metadata = document.get("metadata")
            spec = (metadata.get("kernelspec") if isinstance(metadata, dict) else None) or {}
            name = spec.get("name") if isinstance(spec, dict) else None
            report.kernel_name = self.options.kernel_name or (
                name if isinstance(name, str) else "python3"
            )
            cells = document.get("cells")
            if isinstance(cells, list):
                report.cells_total = sum(1 for c in cells if isinstance(c, dict) and runnable(c))
            output = output_path(
                path, output_dir=self.options.output_dir, inplace=self.options.inplace
            )
            requirements = Path(os.path.abspath(path.parent / REQUIREMENTS))
            job = _Job(report, report.kernel_name, output, requirements)
            if path.suffix.lower() == ".md":
                job.notebook = cast("NotebookNode", document)
            if self._cache is not None and self._from_cache(job, self._cache):
                continue
            jobs.append(job)
        return jobs

    def _refuse_overwrites(self, sources: Iterable[Path]) -> None:
        """Executed copies never overwrite a source of the batch (``--output-dir`` set to the
        sources' own folder), unless that is asked for (``inplace``). Raises
        :class:`~livecells.errors.ConfigError` before anything runs."""
        if self.options.inplace:
            return
        sources = list(sources)
        taken = {os.path.realpath(source) for source in sources}
        for source in sources:
            output = output_path(source, output_dir=self.options.output_dir)
            if os.path.realpath(output) in taken:
                raise ConfigError(
                    f"{output}: --output-dir {self.options.output_dir} would overwrite this "
                    f"source with the executed copy of {source}; choose another --output-dir "
                    "(or --inplace to mean it)"
                )

    def _load(self, job: _Job) -> bool:
        """Read ``job``'s notebook in full and inject its parameters; False (and the report
        says why) when that fails."""
        report = job.report
        if job.prepared:
            return report.status != "error"
        job.prepared = True
        try:
            if job.notebook is None:
                job.notebook = read_notebook(report.source)
            if self.options.parameters:
                warning = inject_parameters(
                    job.notebook, self.options.parameters, kernel_name=job.kernel_name
                )
                if warning:
                    report.warnings.append(warning)
        except (NotebookError, ConfigError) as exc:
            report.status = "error"
            message, named = str(exc), str(report.source)
            report.message = message if message.startswith(named) else f"{named}: {message}"
            return False
        report.cells_total = sum(1 for cell in job.notebook.cells if runnable(cell))
        return True

    def _fingerprint(self, job: _Job) -> dict[str, Any]:
        return fingerprint(runtime=self.options.runtime, requirements=job.requirements)

    def _from_cache(self, job: _Job, cache: ExecutionCache) -> bool:
        """True when ``job`` needs no run: its cached outputs were written (or it could not
        be read); otherwise its cache key is noted for storing the run."""
        if not self._load(job):
            return True
        assert job.notebook is not None
        try:
            key = cache.key(job.notebook, kernel_name=job.kernel_name)
            executed = cache.lookup(job.notebook, key, fingerprint=self._fingerprint(job))
        except CacheError as exc:  # this notebook cannot be cached: run it all the same
            job.report.warnings.append(f"not cached: {exc}")
            return False
        job.cache_key = key
        if executed is None:
            return False
        job.notebook = executed
        self._write(job)
        if job.report.status != "error":
            job.report.status = "cached"
            job.report.cells_run = job.report.cells_total
        return True

    async def _start_kernel(self, job: _Job) -> _Started:
        options = dict(self.options.runtime_options)
        options["kernel_name"] = job.kernel_name
        if self.options.runtime == "local":
            options.setdefault("cwd", str(job.report.source.parent.resolve()))
            # As nbclient: no IPython history database, so no SQLite write per cell and no
            # lock contention between the kernels running side by side.
            options.setdefault("history_file", ":memory:")
        elif self.options.runtime == "pyodide":
            # What the built page would have: the wheels of the requirements.txt beside it,
            # and the files of its folder.
            options.setdefault("requirements", str(job.requirements))
            options.setdefault("cwd", str(job.report.source.parent.resolve()))
            # ... and ipywidgets' wheels when its code imports ipywidgets, as a build gives.
            if self._load(job) and job.notebook is not None:
                from livecells.wheels import widget_requirements

                code = (cell.source for cell in job.notebook.cells if cell.cell_type == "code")
                widgets = widget_requirements(code)
                if widgets:
                    options["packages"] = [*options.get("packages", ()), *widgets]
        idle = asyncio.Event()

        def on_status(status: Status, detail: str) -> None:
            if status is Status.IDLE:
                idle.set()
            elif status is Status.BUSY:
                idle.clear()

        kernel = job.kernel = connect(self.options.runtime, on_status=on_status, **options)
        await kernel.start()
        started = _Started(kernel, idle)
        if self.options.install_requirements and job.requirements.is_file():
            try:
                async with self._install_lock:
                    started.failure = await _install(kernel, job.requirements)
            except BaseException:
                await kernel.shutdown()
                raise
        return started

    async def _work(self, lineup: _Lineup) -> None:
        while (item := lineup.take()) is not None:
            job, starting = item
            await self._run_job(job, starting)

    async def _run_job(self, job: _Job, starting: asyncio.Task[_Started]) -> None:
        report = job.report
        report.status = "running"
        if self.progress is not None:
            self.progress.started(report)
        began = time.perf_counter()
        started: _Started | None = None
        interrupted = False
        try:
            if not self._load(job):
                return
            started = await self._kernel_for(job, starting)
            if started is not None:
                await self._execute(job, started.kernel)
        except asyncio.CancelledError:
            interrupted = True
            report.status = "interrupted"
            where = f" in cell {report.current_cell}" if report.current_cell is not None else ""
            report.message = f"{report.source}: stopped{where}"
            raise
        finally:
            report.duration = time.perf_counter() - began
            if started is None:
                self._discard(starting)
            else:
                timed_out = report.failure is not None and report.failure.ename == NOTEBOOK_TIMEOUT
                self._shut_down(started, interrupt=interrupted or timed_out)
                self._write(job)
            if report.failure is not None and not report.message:
                report.message = f"{report.source}: {report.failure.describe()}"
            if self.progress is not None:
                self.progress.finished(report)

    async def _kernel_for(self, job: _Job, starting: asyncio.Task[_Started]) -> _Started | None:
        """The job's started kernel, or None (and the report says why) if it could not start."""
        report = job.report
        try:
            started = await starting
        except KernelNotFound as exc:
            report.status, report.message = "error", f"{report.source}: {exc}"
            return None
        except Exception as exc:  # the runtime could not start this kernel
            report.failure, report.status = Failure(None, type(exc).__name__, str(exc)), "failed"
            return None
        if started.failure is not None:  # installing requirements failed
            report.failure, report.status = started.failure, "failed"
            self._shut_down(started, interrupt=False)
            return None
        return started

    async def _execute(self, job: _Job, kernel: Kernel) -> None:
        report, notebook = job.report, job.notebook
        assert notebook is not None

        def on_cell(index: int, number: int, total: int) -> None:
            report.current_cell = index
            report.cells_run = number - 1
            if self.progress is not None:
                self.progress.cell(report)

        started_at = datetime.now(UTC)
        try:
            async with asyncio.timeout(self.options.notebook_timeout):
                result = await run_notebook(
                    notebook,
                    kernel,
                    timeout=self.options.timeout,
                    allow_errors=self.options.allow_errors,
                    on_cell=on_cell,
                )
        except TimeoutError:
            report.failure = Failure(
                report.current_cell,
                NOTEBOOK_TIMEOUT,
                f"the notebook did not finish within {self.options.notebook_timeout:g} s",
            )
            report.status = "failed"
            return
        except Exception as exc:  # a runtime failure no cell caused: report it, run the rest
            report.failure = Failure(report.current_cell, type(exc).__name__, str(exc))
            report.status = "failed"
            return
        _set_kernelspec(notebook, job.kernel_name, kernel)
        report.cells_run = result.cells_run
        report.errors = result.errors
        report.failure = result.failure
        report.status = "passed" if result.passed else "failed"
        if result.failure is not None and result.failure.ename == "ModuleNotFoundError":
            result.failure.hint = self._import_hint(job)
        if self.options.parameters:
            record_run(
                notebook,
                input_path=str(report.source),
                output_path=str(job.output),
                started=started_at,
                ended=datetime.now(UTC),
                failed=not result.passed,
            )
        if self._cache is not None and job.cache_key is not None and result.passed:
            try:
                self._cache.store(
                    notebook,
                    job.cache_key,
                    uri=str(job.requirements.parent / report.source.name),
                    fingerprint=self._fingerprint(job),
                    seconds=(datetime.now(UTC) - started_at).total_seconds(),
                )
            except CacheError as exc:
                report.warnings.append(f"not cached: {exc}")

    def _import_hint(self, job: _Job) -> str:
        requirements = job.report.source.parent / REQUIREMENTS
        if not requirements.is_file():
            return (
                "install the module into the kernel's environment, or list it in "
                f"{requirements} and rerun with --install-requirements"
            )
        if not self.options.install_requirements:
            return (
                f"{requirements} lists this notebook's requirements; rerun with "
                "--install-requirements to install them into the kernel's environment"
            )
        return f"{requirements} was installed but does not provide this module"

    def _write(self, job: _Job) -> None:
        report = job.report
        try:
            write_notebook(job.notebook, job.output)
        except NotebookError as exc:
            report.status, report.message = "error", str(exc)
        except OSError as exc:
            report.status = "error"
            report.message = f"{job.output}: cannot write it: {exc.strerror or exc}"
        else:
            report.output = job.output

    def _discard(self, starting: asyncio.Task[_Started]) -> None:
        """Shut down the kernel ``starting`` brings up (if any) for a job that will not use it."""
        task = asyncio.ensure_future(_discard(starting))
        self._shutdowns.add(task)
        task.add_done_callback(self._shutdowns.discard)

    def _shut_down(self, started: _Started, *, interrupt: bool) -> None:
        """Shut ``kernel`` down off the critical path; :meth:`run` waits for it at the end.

        A kernel stopped mid-cell is interrupted first and given a moment to finish the cell:
        shutting down a busy kernel makes it print tracebacks about closed sockets.
        """
        task = asyncio.ensure_future(_stop(started, interrupt=interrupt))
        self._shutdowns.add(task)
        task.add_done_callback(self._shutdowns.discard)


async def run_many(
    paths: Iterable[str | Path],
    options: BatchOptions | None = None,
    *,
    progress: Progress | None = None,
    **settings: Any,
) -> BatchReport:
    """Execute the notebooks that ``paths`` name (files, directories, globs), ``jobs`` at once.

    ``settings`` are :class:`BatchOptions` fields (``jobs=2``, ``runtime="server"``, ...),
    applied over ``options``. Problems with an input are reported (status ``error``) and the
    other notebooks still run.
    """
    chosen = replace(options or BatchOptions(), **settings)
    return await Batch(paths, chosen, progress=progress).run()


async def _install(kernel: Kernel, requirements: Path) -> Failure | None:
    """``pip install -r requirements`` with the kernel's own interpreter (Python kernels)."""
    language = str(kernel.kernel_info.get("language_info", {}).get("name", ""))
    if language != "python":
        return None
    path = str(requirements)
    code = (
        "def _livecells_install(path):\n"
        "    import importlib, subprocess, sys\n"
        "    done = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-input',\n"
        "        '--disable-pip-version-check', '-r', path], capture_output=True, text=True)\n"
        "    importlib.invalidate_caches()\n"
        "    if done.returncode:\n"
        "        raise RuntimeError('pip install -r ' + path + ' failed:\\n'\n"
        "            + done.stdout[-2000:] + done.stderr[-4000:])\n"
        f"try:\n    _livecells_install({path!r})\n"
        "finally:\n    del _livecells_install\n"
    )
    result = await kernel.execute(code, store_history=False, timeout=INSTALL_TIMEOUT)
    error = result.error
    if error is None:
        return None
    return Failure(None, "RequirementsError", error.evalue.strip(), hint=str(requirements))


async def _discard(starting: asyncio.Task[_Started]) -> None:
    try:
        started = await starting
    except BaseException:  # it did not start; nothing to stop
        return
    await started.kernel.shutdown()


async def _stop(started: _Started, *, interrupt: bool) -> None:
    if interrupt:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(INTERRUPT_GRACE):
                await started.kernel.interrupt()
                await started.idle.wait()
    await started.kernel.shutdown()


def _set_kernelspec(notebook: NotebookNode, name: str, kernel: Kernel) -> None:
    """Record the kernel that ran the notebook, when it is not the one the notebook names."""
    spec = notebook.metadata.get("kernelspec") or {}
    if spec.get("name") == name:
        return
    language = str(kernel.kernel_info.get("language_info", {}).get("name", ""))
    display_name = name
    if kernel.runtime == "local":
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        with contextlib.suppress(NoSuchKernel):
            display_name = KernelSpecManager().get_kernel_spec(name).display_name
    notebook.metadata["kernelspec"] = {
        "name": name,
        "display_name": display_name,
        "language": language,
    }
