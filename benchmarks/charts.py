"""Interactive charts: what they cost a page, and how fast the first one is drawn.

In one run, on loopback, headless Chromium:

* bytes: the client's JavaScript before the first run, and each chart library's lazy chunks
  (gzipped, as a host would send them), from the built ``src/livecells/static``;
* time from a plotly figure's output arriving in a cell (run on a real kernel of
  ``livecells serve``, a fresh browser profile each time, so the plotly chunk is fetched cold)
  to its SVG being present, median of N; the same for an altair (Vega-Lite) chart;
* the peer: the same plotly figure's own standalone HTML (``write_html(include_plotlyjs=True)``,
  plotly.js inline), served from 127.0.0.1, from navigation start to its SVG present.

Bounded: every wait has a deadline; the script stops its server itself.
Usage: ``python benchmarks/charts.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.static_server import serve_static
from tests.conftest import CHROMIUM, start_livecells_serve

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "livecells" / "static"
EXAMPLES = ROOT / "examples"
FIGURE = "px.scatter(x=list(range(200)), y=[i % 17 for i in range(200)], title='bench')"
PLOTLY = (
    "import plotly.express as px\nimport plotly.io as pio\n"
    f"pio.renderers.default = 'plotly_mimetype'\n{FIGURE}"
)
ALTAIR = (
    "import altair as alt\nalt.renderers.enable('mimetype')\n"
    "data = alt.Data(values=[{'x': i, 'y': i % 17} for i in range(200)])\n"
    "alt.Chart(data).mark_point().encode(x='x:Q', y='y:Q')"
)
DEADLINE = 120_000  # ms


# Output arrival (the chart's wrapper entering the cell) and the chart's SVG, on the page's clock.
def watch_script(name: str, marks: dict[str, str]) -> str:
    """A page script setting ``window[name][key]`` to the page's clock when the selector of
    ``marks[key]`` first matches."""
    checks = "".join(f"  seen({selector!r}, {key!r});\n" for key, selector in marks.items())
    return f"""
window.{name} = {{}};
const seen = (selector, key) => {{
  if (window.{name}[key] || !document.querySelector(selector)) return;
  window.{name}[key] = performance.now();
}};
new MutationObserver(() => {{
{checks}}}).observe(document, {{ childList: true, subtree: true }});
"""


WATCH = watch_script(
    "__chart",
    {
        "arrived": ".lc-chart",
        "drawn": ".lc-chart svg.main-svg, .lc-chart svg.marks",
        "svg": "svg.main-svg",
    },
)
IMPORT = re.compile(r"""(?:^|[;}\s])import\s*(?:[^()"']*?from\s*)?["']\./([\w./-]+\.js)["']""")


def closure(name: str) -> set[str]:
    """A module of the built client and its static imports, as paths under static/."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        text = (STATIC / current).read_text()
        for found in IMPORT.findall(text):
            pending.append(str(Path(current).parent / found).removeprefix("./"))
    return seen


def gzipped(names: set[str]) -> int:
    return sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in names)


def chunk(prefix: str) -> str:
    [found] = [p.name for p in (STATIC / "chunks").glob(f"{prefix}-*.js")]
    return f"chunks/{found}"


def run_cell_times(
    browser: Browser,
    url: str,
    home: str,
    runs: int,
    *,
    watch: str = WATCH,
    drawn: str = ".lc-chart[data-chart=drawn]",
    mark: str = "window.__chart",
) -> list[float]:
    """Milliseconds from the output's arrival to its drawing (``mark``'s ``arrived`` and
    ``drawn``, set by the ``watch`` script), Start pressed on a fresh profile each run."""
    times = []
    for _ in range(runs):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(home, timeout=DEADLINE)
            page.add_init_script(watch)
            page.goto(url, timeout=DEADLINE)
            page.locator("button.lc-power").click()
            page.locator(drawn).wait_for(timeout=DEADLINE)
            times.append(page.evaluate(f"{mark}.drawn - {mark}.arrived"))
        finally:
            context.close()
    return times


def standalone_times(
    browser: Browser,
    url: str,
    runs: int,
    *,
    watch: str = WATCH,
    shown: str = "svg.main-svg",
    mark: str = "window.__chart.svg",
) -> list[float]:
    """Milliseconds from navigation to ``shown`` (``mark``, set by the ``watch`` script) on a
    standalone page, a fresh profile each run."""
    times = []
    for _ in range(runs):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.add_init_script(watch)
            page.goto(url, timeout=DEADLINE)
            page.locator(shown).first.wait_for(timeout=DEADLINE)
            times.append(page.evaluate(mark))
        finally:
            context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    first = closure("livecells.js")
    plotly = closure(chunk("plotly.min")) - first
    vega = (closure(chunk("embed")) | closure(chunk("vega-interpreter"))) - first
    print(f"JS before the first run: {gzipped(first) / 1024:.1f} KB gzipped ({len(first)} files)")
    print(f"plotly chunk:            {gzipped(plotly) / 1024:.1f} KB gzipped ({len(plotly)} files)")
    print(f"vega / vega-lite chunks: {gzipped(vega) / 1024:.1f} KB gzipped ({len(vega)} files)")

    with tempfile.TemporaryDirectory() as folder:
        book, peer = Path(folder) / "book", Path(folder) / "peer"
        shutil.copytree(EXAMPLES, book)
        front = "---\nkernelspec: {name: python3, display_name: Python 3}\n---\n"
        (book / "plotly.md").write_text(f"{front}```{{code-cell}} python\n{PLOTLY}\n```\n")
        (book / "altair.md").write_text(f"{front}```{{code-cell}} python\n{ALTAIR}\n```\n")
        peer.mkdir()
        import plotly.express as px  # the peer's figure, made here as the kernel makes ours

        figure = eval(FIGURE, {"px": px})
        figure.write_html(peer / "figure.html", include_plotlyjs=True)
        html_size = len(gzip.compress((peer / "figure.html").read_bytes(), 9))
        print(f"peer standalone HTML:    {html_size / 1024:.1f} KB gzipped (plotly.js inline)")
        server = start_livecells_serve(book)
        try:
            with sync_playwright() as playwright, serve_static(peer, isolated=False) as static:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                home = f"{server.url}livecells/?token={server.token}"
                ours = run_cell_times(
                    browser, f"{server.url}livecells/plotly.html", home, args.runs
                )
                theirs = standalone_times(browser, f"{static}figure.html", args.runs)
                altair = run_cell_times(
                    browser, f"{server.url}livecells/altair.html", home, args.runs
                )
                browser.close()
        finally:
            server.stop()
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    altair_ms = statistics.median(altair)
    of = f"of {args.runs}"
    print(f"plotly, output arrival -> SVG (livecells, cold chunk): median {ours_ms:.0f} ms {of}")
    print(f"plotly, navigation -> SVG (standalone write_html):     median {theirs_ms:.0f} ms {of}")
    print(f"ratio livecells / standalone: {ours_ms / theirs_ms:.2f}")
    print(f"altair, output arrival -> SVG (livecells, cold chunk): median {altair_ms:.0f} ms {of}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
