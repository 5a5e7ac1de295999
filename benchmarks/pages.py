"""Live pages: ``livecells serve`` against a stock ``jupyter server``, same machine, same run.

(1) Median ``1+1`` round trip over each server's kernel WebSocket (livecells' Python client of
    the Jupyter protocol, the same on both): ``livecells serve`` sets TCP_NODELAY, stock
    jupyter_server leaves Nagle's algorithm on. Target: >= 4x faster.
(2) Power button -> first output, in headless Chromium on a ``livecells serve`` page whose one
    cell prints (kernel start-up included), median of ``--pages`` fresh page loads.
(3) Gzipped size of the JavaScript a page loads before its first run (the entry module and its
    static imports; lazy chunks excluded). Budget: 60 KB.

Usage: ``python benchmarks/pages.py [-n RUNS] [--pages N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import livecells
from livecells.site import STATIC_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import start_jupyter_server, start_livecells_serve

BUDGET_KB = 60.0
PAGE = """---
kernelspec: {name: python3, display_name: Python 3}
---
```{code-cell} python
print("first output")
```
"""


async def round_trips(url: str, token: str, runs: int) -> list[float]:
    async with livecells.connect("server", url=url, token=token, kernel_name="python3") as kernel:
        for _ in range(10):
            await kernel.execute("1+1")
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            await kernel.execute("1+1")
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def first_output(url: str, token: str, loads: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        login = context.new_page()
        login.goto(f"{url}livecells/?token={token}")
        login.close()
        for _ in range(loads):
            page = context.new_page()
            page.add_init_script("localStorage.clear()")  # a fresh kernel every time
            page.goto(f"{url}livecells/bench.html")
            page.wait_for_selector("button.lc-power")
            start = time.perf_counter()
            page.click("button.lc-power")
            page.wait_for_function(
                "document.querySelector('.lc-cell .lc-outputs')?.textContent.includes('first')"
                " && document.querySelector('.lc-cell .lc-count')?.textContent === '[1]:'",
                timeout=60_000,
            )
            samples.append((time.perf_counter() - start) * 1000)
            page.close()
        browser.close()
    return samples


def initial_js_size() -> tuple[float, list[str]]:
    """Gzipped KB of livecells.js and the chunks it imports statically."""
    seen: list[str] = []
    pending = ["livecells.js"]
    total = 0
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.append(name)
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        total += len(gzip.compress(text.encode(), 9))
        # static imports only: `import ... from "./chunk.js"` / `import "./chunk.js"`
        here = Path(name).parent
        for found in re.findall(r'(?:^|[;}\s])import[^()"\']*?["\']\./([\w./-]+\.js)["\']', text):
            pending.append((here / found).as_posix())
    return total / 1024, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--runs", type=int, default=200, help="round trips per server")
    parser.add_argument("--pages", type=int, default=5, help="page loads for (2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="livecells-pages-") as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        (root / "bench.md").write_text(PAGE)
        ours = start_livecells_serve(root)
        stock = start_jupyter_server(root)
        try:
            fast = asyncio.run(round_trips(ours.url, ours.token, args.runs))
            slow = asyncio.run(round_trips(stock.url, stock.token, args.runs))
            loads = first_output(ours.url, ours.token, args.pages)
        finally:
            ours.stop()
            stock.stop()
    ours_ms, stock_ms = statistics.median(fast), statistics.median(slow)
    print(f"(1) 1+1 round trip over the kernel WebSocket, median of {args.runs}")
    print(f"  livecells serve        {ours_ms:7.2f} ms")
    print(f"  stock jupyter server   {stock_ms:7.2f} ms")
    print(f"  speed-up: {stock_ms / ours_ms:.1f}x  (target >= 4)")
    print(f"(2) power button -> first output, median of {args.pages} page loads")
    print(f"  livecells serve        {statistics.median(loads):7.0f} ms  (kernel start included)")
    size, files = initial_js_size()
    print("(3) JavaScript before the first run, gzipped")
    share = size / BUDGET_KB
    print(f"  {size:.1f} KB in {', '.join(files)}  (budget {BUDGET_KB:.0f} KB: {share:.2f}x)")


if __name__ == "__main__":
    main()
