"""``livecells build`` against mystmd's own parse (``myst build --site``), same project, same run;
and ``livecells serve``'s edit-to-visible latency.

(a) Build: a 60-page project (the synthetic page of ``tests/myst/constructs`` replicated, each
    copy a full page of every construct) built by ``livecells build`` and parsed by ``myst build
    --site`` (on its own copy, with the same empty local template, offline); total and per page,
    best of ``--repeat``. The goal is livecells <= 1.3x mystmd's parse (livecells includes that
    parse, then renders and copies the client).
(b) Edit to visible: ``livecells serve`` on the same project; a page is fetched, its file is
    edited, and the time until the served page shows the edit is measured (the browser's event
    stream polls the page's AST every 0.1 s, then reloads: this is the fetch). Goal: 1 s.

Usage: ``python benchmarks/build.py [--pages N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONSTRUCTS = ROOT / "tests" / "myst" / "constructs"


def make_project(root: Path, pages: int) -> None:
    shutil.copytree(CONSTRUCTS, root)
    text = (CONSTRUCTS / "index.md").read_text()
    for number in range(1, pages - 2):  # index, other and snippet are pages too
        page = text.replace("(sec-first)=", f"(sec-first-{number})=")
        page = page.replace("{ref}`sec-first`", f"{{ref}}`sec-first-{number}`")
        page = page.replace("[](#sec-first)", f"[](#sec-first-{number})")
        for label in ("fig-dot", "eq-energy", "ex-add", "thm-pyth"):
            page = page.replace(label, f"{label}-{number}")
        (root / f"page{number:03}.md").write_text(page)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (the command's and its children's) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def bench_build(project: Path, pages: int, repeat: int) -> None:
    from livecells.myst.project import TEMPLATE_DIR
    from livecells.node import node_executable

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_UPDATE_NOTIFIER": "1", "CI": "1"}
    import mystmd_py

    script = Path(mystmd_py.__file__).parent / "myst.cjs"
    mine, theirs = [], []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "myst"
        shutil.copytree(project, copy)
        (copy / "myst.yml").write_text(
            f"version: 1\nproject: {{}}\nsite:\n  template: {TEMPLATE_DIR}\n"
        )
        for _ in range(repeat):
            shutil.rmtree(copy / "_build", ignore_errors=True)
            theirs.append(timed([node_executable(), str(script), "build", "--site"], copy, env))
            out = Path(scratch) / "out"
            shutil.rmtree(out, ignore_errors=True)
            command = [sys.executable, "-m", "livecells", "build", str(project), "-o", str(out)]
            mine.append(timed(command, ROOT, env))
    best_mine, best_theirs = min(mine), min(theirs)
    cpu_mine, cpu_theirs = min(c for _, c in mine), min(c for _, c in theirs)
    print(f"(a) build of {pages} pages (best of {repeat}; CPU: the command's and its children's):")
    for name, (wall, _), cpu in (
        ("myst build --site", best_theirs, cpu_theirs),
        ("livecells build  ", best_mine, cpu_mine),
    ):
        print(f"    {name} : {wall:6.2f} s  ({1000 * wall / pages:5.1f} ms/page), CPU {cpu:6.2f} s")
    print(
        f"    ratio livecells / mystmd parse: {best_mine[0] / best_theirs[0]:.2f}x wall, "
        f"{cpu_mine / cpu_theirs:.2f}x CPU (goal <= 1.3x)"
    )


def bench_edit(project: Path) -> None:
    from tests.conftest import start_livecells_serve

    server = start_livecells_serve(project)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            client.get(f"livecells/?token={server.token}")
            url = "livecells/page001.html"
            client.get(url).raise_for_status()
            source = project / "page001.md"
            latencies = []
            for attempt in range(3):
                marker = f"Edited{attempt}"
                text = source.read_text()
                began = time.perf_counter()
                source.write_text(text.replace("Intro text", marker, 1))
                while marker not in client.get(url).text:
                    if time.perf_counter() - began > 60:
                        raise SystemExit("the edit never showed")
                latencies.append(time.perf_counter() - began)
                source.write_text(text)
                while marker in client.get(url).text:
                    pass
    finally:
        server.stop()
    print("(b) serve, edit on disk to the served page showing it (mystmd's watcher):")
    print("    " + ", ".join(f"{t:.2f} s" for t in latencies) + " (goal 1 s; an open page")
    print("    learns of it within 0.1 s more: its event stream polls the page's AST)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "book"
        make_project(project, args.pages)
        bench_build(project, args.pages, args.repeat)
        bench_edit(project)


if __name__ == "__main__":
    main()
