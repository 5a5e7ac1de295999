"""``livecells run`` against nbclient and papermill, same machine, same run.

(a) Per-cell cost: one notebook of 200 trivial cells (``x = i``) and one of 1 cell, each run by
    ``livecells run``, nbclient (``jupyter execute --inplace``) and ``papermill``; the per-cell
    cost is ``(t(201 cells) - t(1 cell)) / 200``, so process and kernel start-up cancel out.
(b) Throughput: 20 notebooks of 10 trivial cells, ``livecells run --jobs 3`` (with its kernel
    image, and again with ``--no-kernel-image``) against nbclient running them one after
    another (one ``jupyter execute`` process).

Every tool runs as its command-line program in a subprocess on the python3 kernelspec; each
timing is the best of ``--repeat`` runs. (a) subtracts two process timings, so it also measures
the steady state in-process, where kernel start-up noise cannot blur it: 200 cells on a started
kernel through ``livecells.run_notebook`` and through nbclient's ``async_execute_cell``.
(b) also prints the CPU seconds each tool used (its kernels included): with ``C`` cores, no
schedule beats ``cpu / C`` of wall time, which bounds the speed-up a machine allows.
(c) Parameters: 10 notebooks of 10 cells with a ``parameters`` cell, each given ``-p`` values:
    ``papermill -p`` once per notebook (it takes one at a time) against one
    ``livecells run -p --jobs 3``; and one notebook alone, papermill against livecells.
(d) The execution cache: ``livecells build --execute --cache`` of a 50-page book (MyST pages of
    5 cells) with an empty cache (cold) and again with nothing changed (warm), and the same for
    ``livecells run --cache`` on the 50 pages; the goal is warm <= 5% of cold.
Prints the numbers and the ratios. Usage: ``python benchmarks/batch.py [--repeat N]
[--only a,b,c,d]`` (about five minutes with the default of 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

BIN = Path(sys.executable).parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def make_notebook(path: Path, cells: int) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [nbformat.v4.new_code_cell(f"x = {i}") for i in range(cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


CPU_USED: dict[float, float] = {}
"""Wall time of a run -> CPU seconds it used (children and their kernels)."""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> float:
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    CPU_USED[elapsed] = children_cpu() - cpu
    return elapsed


def best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def livecells_run(
    notebooks: list[Path], work: Path, jobs: int = 3, *, flags: tuple[str, ...] = ()
) -> float:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    command = [str(BIN / "livecells"), "run", "--jobs", str(jobs), "--output-dir", str(out)]
    return timed([*command, *flags, *map(str, notebooks)], work)


def nbclient_run(notebooks: list[Path], work: Path) -> float:
    copies = []
    for notebook in notebooks:  # --inplace, on copies: nbclient writes its output too
        copy = work / "nbclient" / notebook.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, copy)
        copies.append(str(copy))
    return timed([str(BIN / "jupyter-execute"), "--inplace", *copies], work)


def papermill_run(notebook: Path, work: Path) -> float:
    output = work / "papermill" / notebook.name
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "papermill"), "--kernel", "python3", "--no-progress-bar"]
    return timed([*command, str(notebook), str(output)], work)


def per_cell(repeat: int, work: Path) -> dict[str, float]:
    long = make_notebook(work / "in" / "long.ipynb", 201)
    short = make_notebook(work / "in" / "short.ipynb", 1)
    runners: dict[str, Callable[[Path], float]] = {
        "livecells run": lambda nb: livecells_run([nb], work, jobs=1),
        "nbclient": lambda nb: nbclient_run([nb], work),
        "papermill": lambda nb: papermill_run(nb, work),
    }
    costs = {}
    for name, runner in runners.items():
        t_long = best(repeat, lambda runner=runner: runner(long))  # type: ignore[misc]
        t_short = best(repeat, lambda runner=runner: runner(short))  # type: ignore[misc]
        costs[name] = (t_long - t_short) / 200 * 1000
        print(f"  {name:<14} 201 cells {t_long:6.2f} s   1 cell {t_short:5.2f} s", flush=True)
    return costs


def steady_state(repeat: int, cells: int = 200) -> tuple[float, float]:
    """ms per cell on a started kernel: livecells.run_notebook, nbclient's async_execute_cell."""
    from nbclient import NotebookClient

    from livecells.execute import run_notebook
    from livecells.runtimes import connect

    def notebook() -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
        nb.cells = [nbformat.v4.new_code_cell(f"x = {i}") for i in range(cells)]
        return nb

    async def ours() -> float:
        kernel = connect("local", kernel_name="python3", history_file=":memory:")
        async with kernel:
            times = []
            for _ in range(repeat + 1):  # the first run warms up
                start = time.perf_counter()
                await run_notebook(notebook(), kernel)
                times.append(time.perf_counter() - start)
        return min(times[1:]) / cells * 1000

    async def theirs() -> float:
        nb = notebook()
        client = NotebookClient(nb)
        times = []
        async with client.async_setup_kernel():
            for _ in range(repeat + 1):
                start = time.perf_counter()
                for index, cell in enumerate(nb.cells):
                    await client.async_execute_cell(cell, index)
                times.append(time.perf_counter() - start)
        return min(times[1:]) / cells * 1000

    return asyncio.run(ours()), asyncio.run(theirs())


def throughput(repeat: int, work: Path) -> tuple[float, float, float]:
    """livecells run (kernel image on), the same with ``--no-kernel-image``, nbclient."""
    notebooks = [make_notebook(work / "many" / f"nb{i:02}.ipynb", 10) for i in range(20)]
    ours = best(repeat, lambda: livecells_run(notebooks, work, jobs=3))
    cold = best(repeat, lambda: livecells_run(notebooks, work, flags=("--no-kernel-image",)))
    theirs = best(repeat, lambda: nbclient_run(notebooks, work))
    return ours, cold, theirs


def parameterised(path: Path, cells: int) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    declared = nbformat.v4.new_code_cell("alpha = 1\nlabel = 'x'")
    declared.metadata["tags"] = ["parameters"]
    nb.cells = [declared] + [nbformat.v4.new_code_cell(f"y = alpha * {i}") for i in range(cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


PARAMETERS = ["-p", "alpha", "2.5", "-p", "label", "run"]


def papermill_parameters(notebooks: list[Path], work: Path) -> float:
    """papermill takes one notebook per process: one after another, as a shell loop would."""
    total = 0.0
    for notebook in notebooks:
        output = work / "papermill-p" / notebook.name
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [str(BIN / "papermill"), "--kernel", "python3", "--no-progress-bar"]
        total += timed([*command, str(notebook), str(output), *PARAMETERS], work)
    return total


def livecells_parameters(notebooks: list[Path], work: Path) -> float:
    out = work / "out-p"
    shutil.rmtree(out, ignore_errors=True)
    command = [str(BIN / "livecells"), "run", "--jobs", "3", "--output-dir", str(out)]
    return timed([*command, *PARAMETERS, *map(str, notebooks)], work)


def with_parameters(repeat: int, work: Path) -> None:
    notebooks = [parameterised(work / "params" / f"p{i:02}.ipynb", 10) for i in range(10)]
    print("(c) parameters: 10 notebooks x 10 cells, -p alpha 2.5 -p label run", flush=True)
    theirs = best(repeat, lambda: papermill_parameters(notebooks, work))
    ours = best(repeat, lambda: livecells_parameters(notebooks, work))
    print(f"  papermill -p, one per notebook   {theirs:6.2f} s")
    print(f"  livecells run -p --jobs 3        {ours:6.2f} s")
    print(f"  papermill / livecells: {theirs / ours:.2f}x")
    one_theirs = best(repeat, lambda: papermill_parameters(notebooks[:1], work))
    one_ours = best(repeat, lambda: livecells_parameters(notebooks[:1], work))
    print(
        f"  one notebook: papermill {one_theirs:5.2f} s, livecells {one_ours:5.2f} s, "
        f"{one_theirs / one_ours:.2f}x"
    )


def make_book(root: Path, pages: int, cells: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "livecells.yml").write_text("project:\n  title: bench\n  jupyter: true\n")
    header = "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
    for page in range(pages):
        blocks = "\n".join(
            f"```{{code-cell}} python\nvalue = {page} * {cell}\nvalue\n```\n"
            for cell in range(cells)
        )
        (root / f"page{page:02}.md").write_text(f"{header}# Page {page}\n\n{blocks}")
    return root


def cold_and_warm(repeat: int, work: Path) -> None:
    book = make_book(work / "book", pages=50, cells=5)
    cache = work / "cache"
    print("(d) the execution cache: 50 pages x 5 cells", flush=True)
    commands = {
        "livecells build --execute": lambda: [
            str(BIN / "livecells"),
            "build",
            str(book),
            "-o",
            str(work / "site"),
            "--execute",
            "--cache",
            str(cache),
        ],
        "livecells run": lambda: [
            str(BIN / "livecells"),
            "run",
            str(book),
            "--output-dir",
            str(work / "executed"),
            "--cache",
            str(cache),
        ],
    }
    for name, command in commands.items():
        colds, warms = [], []
        for _ in range(repeat):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(timed(command(), work))
            warms.append(timed(command(), work))
        cold, warm = min(colds), min(warms)
        cpu_cold, cpu_warm = CPU_USED[cold], CPU_USED[warm]
        print(
            f"  {name:<26} cold {cold:6.2f} s   warm {warm:5.2f} s   "
            f"warm/cold {warm / cold:.1%}  (goal <= 5%)"
        )
        print(
            f"  {'':<26} CPU: cold {cpu_cold:6.2f} s   warm {cpu_warm:5.2f} s   "
            f"warm/cold {cpu_warm / cpu_cold:.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best kept)")
    parser.add_argument("--only", default="a,b,c,d", help="which parts to run (default: all)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="livecells-batch-") as tmp:
        work = Path(tmp)
        if "c" in parts:
            with_parameters(args.repeat, work)
        if "d" in parts:
            cold_and_warm(args.repeat, work)
        if parts & {"a", "b"}:
            classic(args.repeat, work)


def classic(repeat: int, work: Path) -> None:
    """(a) and (b): livecells run against nbclient and papermill without parameters."""
    print("(a) per-cell cost, 200 trivial cells", flush=True)
    costs = per_cell(repeat, work)
    for name, cost in costs.items():
        print(f"  {name:<14} {cost:6.2f} ms per cell")
    ours = costs["livecells run"]
    print(f"  nbclient / livecells:  {costs['nbclient'] / ours:.2f}x  (target >= 1)")
    print(f"  papermill / livecells: {costs['papermill'] / ours:.2f}x  (target >= 3)")
    mine, nbclient = steady_state(repeat)
    print("(a') per-cell cost in-process, 200 cells on a started kernel", flush=True)
    print(f"  livecells.run_notebook       {mine:6.2f} ms per cell")
    print(f"  nbclient async_execute_cell  {nbclient:6.2f} ms per cell")
    print(f"  nbclient / livecells:  {nbclient / mine:.2f}x  (target >= 1)")
    print("(b) 20 notebooks x 10 cells", flush=True)
    parallel, cold, sequential = throughput(repeat, work)
    cores = os.cpu_count() or 1
    cpu = CPU_USED[parallel]
    print(f"  livecells run --jobs 3   {parallel:6.2f} s  ({cpu:5.1f} s CPU)")
    print(f"    --no-kernel-image      {cold:6.2f} s  ({CPU_USED[cold]:5.1f} s CPU)")
    theirs = CPU_USED[sequential]
    print(f"  nbclient, one by one     {sequential:6.2f} s  ({theirs:5.1f} s CPU)")
    print(f"  speed-up: {sequential / parallel:.2f}x  (target >= 3)")
    print(f"    without the kernel image: {sequential / cold:.2f}x")
    print(
        f"  {cores} cores: no schedule of livecells' {cpu:.1f} s of CPU ends before "
        f"{cpu / cores:.2f} s, a speed-up of at most {sequential * cores / cpu:.2f}x here"
    )


if __name__ == "__main__":
    main()
