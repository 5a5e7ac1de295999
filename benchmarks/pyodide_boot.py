"""Pyodide boot in the reader's browser: page load -> first result, against a plain module worker.

Both run in headless Chromium on the same files (the site ``livecells build`` writes), served
from 127.0.0.1 by the same static server with the caching headers of the build's ``_headers``
file and cross-origin isolation:

- livecells: a built page with one cell ``print(1 + 1)``; the power button is pressed as soon as
  it appears; timed from navigation start to the ``2`` in the cell's output.
- peer: a page whose module worker only does ``loadPyodide`` on the same ``pyodide/`` files and
  ``runPython("1 + 1")`` (the bare minimum a Pyodide embedding does; no kernel, no outputs).

Cold: a fresh browser profile each time (nothing cached). Warm: the same profile, page opened
again (HTTP cache and Chromium's WebAssembly code cache). Median of ``--runs`` (default 5).
Targets: warm <= 1.5 s, cold <= 3 s.

Usage: ``python benchmarks/pyodide_boot.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.static_server import serve_static

from livecells.site import build

PAGE = """---
kernelspec: {name: python3, display_name: Python 3}
---
```{code-cell} python
print(1 + 1)
```
"""
PEER_PAGE = """<!doctype html><meta charset=utf-8><title>peer</title>
<script type="module">
const worker = new Worker("peer-worker.js", {type: "module"});
worker.onmessage = (event) => { window.result = event.data; window.resultAt = performance.now(); };
</script>"""
PEER_WORKER = """import { loadPyodide } from "./_livecells/pyodide/pyodide.mjs";
const indexURL = new URL("./_livecells/pyodide/", location.href).href;
const pyodide = await loadPyodide({ indexURL });
postMessage(String(pyodide.runPython("1 + 1")));
"""


def ours(context: BrowserContext, url: str) -> float:
    page = context.new_page()
    page.goto(url + "bench.html", wait_until="commit")
    page.click("button.lc-power", timeout=60_000)
    page.locator(".lc-cell .lc-outputs").filter(has_text="2").wait_for(timeout=120_000)
    elapsed = float(page.evaluate("performance.now()"))
    page.close()
    return elapsed


def peer(context: BrowserContext, url: str) -> float:
    page = context.new_page()
    page.goto(url + "peer.html", wait_until="commit")
    page.wait_for_function("window.result === '2'", timeout=120_000, polling=10)
    elapsed = float(page.evaluate("window.resultAt"))
    page.close()
    return elapsed


def measure(browser: Browser, url: str, runs: int, run: object) -> tuple[float, float]:
    assert callable(run)
    cold = []
    for _ in range(runs):
        context = browser.new_context()
        cold.append(run(context, url))
        context.close()
    context = browser.new_context()
    run(context, url)  # fills the cache
    warm = [run(context, url) for _ in range(runs)]
    context.close()
    return statistics.median(cold), statistics.median(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="page loads per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="livecells-boot-") as tmp:
        source, site = Path(tmp) / "src", Path(tmp) / "site"
        source.mkdir()
        (source / "bench.md").write_text(PAGE)
        (source / "livecells.yml").write_text("project:\n  jupyter: lite\n")
        build(source, site)
        (site / "peer.html").write_text(PEER_PAGE)
        (site / "peer-worker.js").write_text(PEER_WORKER)
        with (
            serve_static(site, isolated=True, cache=True) as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            peer_cold, peer_warm = measure(browser, url, args.runs, peer)
            our_cold, our_warm = measure(browser, url, args.runs, ours)
            browser.close()
    print(f"page load -> first result in Chromium, median of {args.runs}")
    print(f"  {'':28}{'cold':>10}{'warm':>10}")
    print(f"  {'livecells (kernel, page)':28}{our_cold:>8.0f}ms{our_warm:>8.0f}ms")
    print(f"  {'peer: bare loadPyodide':28}{peer_cold:>8.0f}ms{peer_warm:>8.0f}ms")
    cold, warm = peer_cold / our_cold, peer_warm / our_warm
    print(f"  ratio peer/livecells: cold {cold:.2f}x, warm {warm:.2f}x")
    print(
        f"  targets: cold <= 3000 ms ({our_cold / 3000:.2f}x), "
        f"warm <= 1500 ms ({our_warm / 1500:.2f}x)"
    )


if __name__ == "__main__":
    main()
