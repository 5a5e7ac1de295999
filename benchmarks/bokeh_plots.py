"""Bokeh plots: what they cost a page, and how fast the first one is drawn.

In one run, on loopback, headless Chromium:

* bytes: the client's JavaScript before the first run and BokehJS's lazy chunks (core; widgets
  and tables), gzipped, from the built ``src/livecells/static``; the peer: the files Bokeh's own
  ``output_notebook()`` loads from cdn.bokeh.org for any plot (bokeh, gl, widgets, tables,
  mathjax: the same files, from the installed bokeh's ``server/static/js``);
* time from ``show(p)``'s output arriving in a cell (a real kernel of ``livecells serve``, a
  fresh browser profile each time, so BokehJS is fetched cold) to the figure's view in the page,
  median of N; the peer: the same figure saved by Bokeh as standalone HTML with BokehJS inline
  (``bokeh.io.save(p, resources=INLINE)``), served from 127.0.0.1, navigation start to the same.

Bounded: every wait has a deadline; the script stops its server itself.
Usage: ``python benchmarks/bokeh_plots.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.charts import (
    chunk,
    closure,
    gzipped,
    run_cell_times,
    standalone_times,
    watch_script,
)
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.static_server import serve_static
from tests.conftest import CHROMIUM, start_livecells_serve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLOT = (
    "from bokeh.io import output_notebook, show\nfrom bokeh.plotting import figure\n"
    "output_notebook()\np = figure(); p.scatter(list(range(200)), [i % 17 for i in range(200)])\n"
    "show(p)"
)
PEER_FILES = ("bokeh", "bokeh-gl", "bokeh-widgets", "bokeh-tables", "bokeh-mathjax")
DEADLINE = 120_000  # ms
# Output arrival (the plot's wrapper entering the cell) and the figure's view, on the page's clock.
WATCH = watch_script("__plot", {"arrived": ".lc-bokeh:not(.lc-bokeh-load)", "drawn": ".bk-Figure"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    import bokeh

    first = closure("livecells.js")
    core = closure(chunk("bokeh.esm.min")) - first
    plugins = closure(chunk("bokeh-widgets.esm.min")) | closure(chunk("bokeh-tables.esm.min"))
    plugins -= first | core
    peer_js = Path(bokeh.__file__).parent / "server" / "static" / "js"
    peer_bytes = sum(
        len(gzip.compress((peer_js / f"{name}.min.js").read_bytes(), 9)) for name in PEER_FILES
    )
    print(f"JS before the first run:        {gzipped(first) / 1024:.1f} KB gzipped")
    print(f"BokehJS core chunk (any plot):  {gzipped(core) / 1024:.1f} KB gzipped")
    print(f"+ widgets and tables (if used): {gzipped(plugins) / 1024:.1f} KB gzipped")
    print(
        f"peer, output_notebook()'s CDN files ({', '.join(PEER_FILES)}, bokeh {bokeh.__version__}):"
        f" {peer_bytes / 1024:.1f} KB gzipped, for any plot"
    )

    with tempfile.TemporaryDirectory() as folder:
        book, peer = Path(folder) / "book", Path(folder) / "peer"
        shutil.copytree(EXAMPLES, book)
        front = "---\nkernelspec: {name: python3, display_name: Python 3}\n---\n"
        (book / "bokeh.md").write_text(f"{front}```{{code-cell}} python\n{PLOT}\n```\n")
        peer.mkdir()
        from bokeh.io import save
        from bokeh.plotting import figure
        from bokeh.resources import INLINE

        plot = figure()
        plot.scatter(list(range(200)), [i % 17 for i in range(200)])
        save(plot, peer / "plot.html", resources=INLINE, title="bench")
        server = start_livecells_serve(book)
        try:
            with sync_playwright() as playwright, serve_static(peer, isolated=False) as static:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                home = f"{server.url}livecells/?token={server.token}"
                ours = run_cell_times(
                    browser,
                    f"{server.url}livecells/bokeh.html",
                    home,
                    args.runs,
                    watch=WATCH,
                    drawn=".lc-bokeh[data-bokeh=drawn]",
                    mark="window.__plot",
                )
                theirs = standalone_times(
                    browser,
                    f"{static}plot.html",
                    args.runs,
                    watch=WATCH,
                    shown=".bk-Figure",
                    mark="window.__plot.drawn",
                )
                browser.close()
        finally:
            server.stop()
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    of = f"of {args.runs}"
    print(f"output arrival -> figure (livecells, cold chunk): median {ours_ms:.0f} ms {of}")
    print(f"navigation -> figure (bokeh.io.save, inline):     median {theirs_ms:.0f} ms {of}")
    print(f"ratio livecells / standalone: {ours_ms / theirs_ms:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
