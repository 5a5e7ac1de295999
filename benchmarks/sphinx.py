"""``livecells.sphinx`` against sphinx-thebe, same project, same machine, same run.

(1) Build time: a 30-page MyST-NB book (sphinx-book-theme; each page a notebook of 5 code cells
    with stored outputs, not executed) built from scratch by ``sphinx-build -E`` into a fresh
    folder, once with ``extensions = ["myst_nb", "sphinx_thebe"]`` and once with
    ``["myst_nb", "livecells.sphinx"]``, the same ``thebe_config`` in both (the drop-in); the
    two alternate, and the best of ``--repeat`` runs of each is compared (goal <= 1.1x). A
    rebuild with nothing changed is timed too (livecells copies only files that changed).
(2) JavaScript shipped before the first run on a page, gzipped (level 9, each file alone):
    livecells measured in headless Chromium on ``livecells serve _build/html`` (every .js
    response from the page's load until the first cell's output); sphinx-thebe counted from
    its files: ``sphinx-thebe.js`` plus thebe's entry ``lib/index.js`` (thebe's lazy chunks not
    counted, so thebe's figure is a lower bound). sphinx-thebe 0.3 loads thebe 0.8.2 from
    unpkg.com, which cannot be reached here and which the npm registry here does not hold: the
    entry is taken from ``npm pack thebe@0.9.2`` (the nearest release it has), once, into
    ``benchmarks/results/`` (ignored by git).

Usage: ``python benchmarks/sphinx.py [--repeat N]`` (about two minutes with the default 3).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# This file's name is the package's: its folder, first on the path when run as a script, must
# not hide Sphinx from sphinx_thebe.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import sphinx_thebe  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.conftest import start_livecells_serve  # noqa: E402

PAGES = 30
THEBE_VERSION = "0.9.2"
RESULTS = ROOT / "benchmarks" / "results"
CONF = """\
project = "Benchmark book"
extensions = ["myst_nb", {extension!r}]
html_theme = "sphinx_book_theme"
nb_execution_mode = "off"
exclude_patterns = ["_build"]
thebe_config = {{"repository_url": "https://github.com/owner/book", "repository_branch": "main"}}
"""


def make_book(root: Path, extension: str) -> Path:
    root.mkdir(parents=True)
    (root / "conf.py").write_text(CONF.format(extension=extension))
    names = [f"page{index:02}" for index in range(PAGES)]
    (root / "index.md").write_text(
        "# Benchmark book\n\n```{toctree}\n" + "\n".join(names) + "\n```\n"
    )
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, name in enumerate(names):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": spec})
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Page {index}\n\nSome prose, $x^2$.")]
        for cell in range(5):
            output = nbformat.v4.new_output(
                "execute_result", {"text/plain": str(cell * index)}, execution_count=cell + 1
            )
            code = nbformat.v4.new_code_cell(f"{cell} * {index}", outputs=[output])
            code.execution_count = cell + 1
            nb.cells.append(code)
        nbformat.write(nb, root / f"{name}.ipynb")
    return root


def build(source: Path, output: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "sphinx", "-E", "-q", "-b", "html", str(source), str(output)]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"sphinx-build failed for {source.name}: {done.stderr[-2000:]}")
    return took


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def thebe_bytes() -> tuple[int, list[str]]:
    """sphinx-thebe.js and thebe's entry, gzipped."""
    package = RESULTS / f"thebe-{THEBE_VERSION}"
    entry = package / "package" / "lib" / "index.js"
    if not entry.is_file():
        package.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"thebe@{THEBE_VERSION}", "--silent"],
            cwd=package,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(package / f"thebe-{THEBE_VERSION}.tgz") as archive:
            archive.extract("package/lib/index.js", package, filter="data")
    ours = Path(sphinx_thebe.__file__).parent / "_static" / "sphinx-thebe.js"
    return gzipped(ours.read_bytes()) + gzipped(entry.read_bytes()), [
        "sphinx-thebe.js",
        f"thebe@{THEBE_VERSION} lib/index.js",
    ]


def livecells_bytes(site: Path) -> tuple[int, list[str]]:
    """The JavaScript a page of the livecells build fetched until its first output."""
    from playwright.sync_api import sync_playwright

    server = start_livecells_serve(site)
    fetched: dict[str, bytes] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context()
            context.new_page().goto(f"{server.url}livecells/?token={server.token}")
            page = context.new_page()

            def keep(response: object) -> None:
                url = response.url  # type: ignore[attr-defined]
                if url.split("?")[0].endswith((".js", ".mjs")) and url not in fetched:
                    fetched[url] = response.body()  # type: ignore[attr-defined]

            context.on("response", keep)
            before = set()
            page.goto(f"{server.url}livecells/page01.html")
            page.wait_for_selector("button.lc-power")
            before = {url for url in fetched if "/_static/livecells/" not in url}
            page.click("button.lc-power")
            page.wait_for_function(
                "document.querySelector('.lc-cell .lc-outputs')?.textContent.trim() === '0'"
                " && document.querySelector('.lc-cell .lc-count')?.textContent === '[1]:'",
                timeout=120_000,
            )
            browser.close()
    finally:
        server.stop()
    ours = {url: body for url, body in fetched.items() if url not in before}
    names = [url.split("/_static/livecells/")[-1].split("?")[0] for url in ours]
    return sum(gzipped(body) for body in ours.values()), names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="builds of each (best is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="livecells-sphinx-") as tmp:
        books = {
            "sphinx-thebe": make_book(Path(tmp) / "thebe", "sphinx_thebe"),
            "livecells.sphinx": make_book(Path(tmp) / "livecells", "livecells.sphinx"),
        }
        fresh: dict[str, list[float]] = {name: [] for name in books}
        again: dict[str, list[float]] = {name: [] for name in books}
        for run in range(args.repeat):
            for name, source in books.items():
                output = Path(tmp) / f"out-{name}-{run}"
                fresh[name].append(build(source, output))
                again[name].append(build(source, output))
                if run < args.repeat - 1:
                    shutil.rmtree(output)
        site = Path(tmp) / f"out-livecells.sphinx-{args.repeat - 1}"
        ours_js, ours_files = livecells_bytes(site)
    thebe_js, thebe_files = thebe_bytes()
    thebe, ours = min(fresh["sphinx-thebe"]), min(fresh["livecells.sphinx"])
    print(f"(1) build of a {PAGES}-page MyST-NB book from scratch, best of {args.repeat}")
    print(f"  sphinx-thebe       {thebe:6.2f} s")
    print(f"  livecells.sphinx   {ours:6.2f} s  (Pyodide and the client copied in)")
    print(f"  ratio livecells / thebe: {ours / thebe:.2f}x  (goal <= 1.1x)")
    thebe_again, ours_again = min(again["sphinx-thebe"]), min(again["livecells.sphinx"])
    print("    rebuilt with -E, nothing changed:")
    print(f"  sphinx-thebe       {thebe_again:6.2f} s")
    print(f"  livecells.sphinx   {ours_again:6.2f} s")
    print(f"  ratio livecells / thebe: {ours_again / thebe_again:.2f}x")
    print("(2) JavaScript before the first run on a page, gzipped")
    print(f"  sphinx-thebe     >= {thebe_js / 1024:7.1f} KB  ({', '.join(thebe_files)})")
    print(f"  livecells.sphinx    {ours_js / 1024:7.1f} KB  ({', '.join(ours_files)})")
    print(f"  ratio thebe / livecells: >= {thebe_js / ours_js:.1f}x")


if __name__ == "__main__":
    main()
