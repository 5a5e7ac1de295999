"""Median widget round trip in Chromium: a slider's value set -> the kernel's observe callback
-> a Label's value -> the Label's view updated, on a ``livecells serve`` kernel and on the
Pyodide runtime (Python in a worker of the page, a site built by ``livecells build``).

Runs, in one process and one run, on the same page and kernel (each path on both runtimes):

* ``livecells widgets``: the slider's model set and saved in the page (what its view does when
  dragged), through the widget manager, the comm layer and the kernel WebSocket; timed until the
  Label's view shows the callback's value;
* ``anywidget`` (server kernel only: Pyodide has no anywidget wheel here): the same round trip
  through an anywidget widget (``value`` set and saved on its model, the kernel's observe
  callback sets ``doubled``, which its ES module shows);
* ``bare comm (peer)``: the same update as a raw ``comm_msg`` sent on the same runtime, timed
  until the kernel's ``comm_msg`` for the Label arrives: the widget message path (manager,
  models, views) bypassed.

The peer is not JupyterLab's html-manager flow through a stock ``jupyter server``: JupyterLab
is not installed here, so the bare comm path on the same kernel is the floor the widget layer
adds to. Usage: ``python benchmarks/widgets.py [-n N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.charts import chunk, closure, gzipped
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.static_server import serve_static
from tests.conftest import CHROMIUM, start_livecells_serve

from livecells.site import build

PAGE = """---
kernelspec: {name: python3, display_name: Python 3}
---
```{code-cell} python
import ipywidgets as w
slider = w.IntSlider(value=0, min=0, max=10**6)
label = w.Label(value="0")
slider.observe(lambda change: setattr(label, "value", str(change["new"] * 2)), "value")
print(slider.model_id, label.model_id)
w.VBox([slider, label])
```
"""
# The served page also has an anywidget (its ES module allowed in the page's policy).
SERVED_PAGE = (
    PAGE.replace("---\n```", "livecells: {allowWidgetESM: true}\n---\n```", 1)
    + """```{code-cell} python
import anywidget, traitlets
class Echo(anywidget.AnyWidget):
    _esm = '''export default { render({ model, el }) {
      const span = document.createElement("span");
      span.className = "echo";
      const show = () => { span.textContent = String(model.get("doubled")); };
      model.on("change:doubled", show);
      show();
      el.append(span);
    } }'''
    value = traitlets.Int(0).tag(sync=True)
    doubled = traitlets.Int(0).tag(sync=True)
echo = Echo()
echo.observe(lambda change: setattr(echo, "doubled", change["new"] * 2), "value")
print(echo.model_id)
echo
```
"""
)

# Each returns the milliseconds of `runs` round trips (after `warm` untimed ones).
WIDGETS = """async ([slider, selector, runs, warm]) => {
  const manager = window.livecells.widgets.liveManager;
  const model = await manager.get_model(slider);
  const view = document.querySelector(selector);
  const samples = [];
  for (let i = 1; i <= runs + warm; i++) {
    const value = model.get("value") + 1;
    const shown = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        if (view.textContent === String(value * 2)) { observer.disconnect(); resolve(); }
      });
      observer.observe(view, { childList: true, characterData: true, subtree: true });
    });
    const start = performance.now();
    model.set("value", value);
    model.save_changes();
    await shown;
    if (i > warm) samples.push(performance.now() - start);
  }
  return samples;
}"""

BARE = """async ([slider, label, runs, warm]) => {
  const { widgets, runtime } = window.livecells;
  widgets.detach();
  const samples = [];
  let waiting = null;
  runtime.onMessage((msg) => {
    const content = msg.content;
    if (waiting && msg.header.msg_type === "comm_msg" && content.comm_id === label
        && content.data.state && content.data.state.value === waiting.text) waiting.resolve();
    return false;
  });
  for (let i = 1; i <= runs + warm; i++) {
    const value = 500000 + i;
    const done = new Promise((resolve) => { waiting = { text: String(value * 2), resolve }; });
    const start = performance.now();
    const data = { method: "update", state: { value }, buffer_paths: [] };
    runtime.sendComm("comm_msg", { comm_id: slider, data }, {}, []);
    await done;
    if (i > warm) samples.push(performance.now() - start);
  }
  return samples;
}"""


def measure(browser: Any, url: str, runs: int, runtime: str) -> dict[str, list[float]]:
    """Both paths on the page at ``url`` (Start pressed, the widgets shown first)."""
    page = browser.new_page()
    page.goto(url)
    page.locator("button.lc-power").click()
    page.locator(".lc-cell div.widget-label").wait_for(timeout=120_000)
    streams = page.locator(".lc-cell pre.lc-stream")
    ids = streams.nth(0).inner_text().split()
    label = ".lc-cell div.widget-label"
    results = {f"livecells widgets, {runtime}": page.evaluate(WIDGETS, [ids[0], label, runs, 5])}
    if runtime == "server":
        page.locator(".lc-cell span.echo").wait_for(timeout=60_000)
        echo = streams.nth(1).inner_text().strip()
        results["anywidget, server"] = page.evaluate(WIDGETS, [echo, ".lc-cell span.echo", runs, 5])
    results[f"bare comm, {runtime} (peer)"] = page.evaluate(BARE, [*ids, runs, 5])
    page.close()
    return results


def main(runs: int) -> None:
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as root:
        served, lite, site = Path(root, "served"), Path(root, "lite"), Path(root, "site")
        for folder, text in ((served, SERVED_PAGE), (lite, PAGE)):
            folder.mkdir()
            (folder / "bench.md").write_text(text)
        (lite / "livecells.yml").write_text("project:\n  jupyter: lite\n")
        build(lite, site)
        server = start_livecells_serve(served)
        try:
            with sync_playwright() as playwright, serve_static(site, isolated=False) as base:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                browser = chromium.new_context()  # one context: the server's login cookie
                login = browser.new_page()
                login.goto(f"{server.url}livecells/?token={server.token}")
                login.close()
                results |= measure(browser, f"{server.url}livecells/bench.html", runs, "server")
                results |= measure(browser, f"{base}bench.html", runs, "Pyodide")
                chromium.close()
        finally:
            server.stop()
    print(f"widget round trip (slider set -> observe -> label shown), {runs} runs each, ms")
    print(f"{'path':34} {'median':>8} {'p90':>8} {'ratio vs its peer':>18}")
    for name, samples in results.items():
        runtime = name.split(", ")[1].split()[0]
        peer = statistics.median(results[f"bare comm, {runtime} (peer)"])
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:34} {median:8.2f} {p90:8.2f} {median / peer:17.2f}x")
    print_bytes()


def print_bytes() -> None:
    """The JavaScript a page fetches: before its first run, and for widgets (each chunk with
    the chunks it imports that the page has not loaded yet), gzipped, from the built client."""
    first = closure("livecells.js")
    manager = closure(chunk("widgets-manager")) - first
    print("JavaScript, gzipped (the built client in src/livecells/static)")
    print(f"  before the first run:                {gzipped(first) / 1024:7.1f} KB")
    print(f"  + the widget manager (first widget):  {gzipped(manager) / 1024:7.1f} KB")
    for name, what in (("anywidget", "an anywidget"), ("ipympl", "an ipympl figure")):
        extra = closure(chunk(name)) - first - manager
        print(f"  + {what + ' (its own chunk):':34} {gzipped(extra) / 1024:7.1f} KB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    main(parser.parse_args().runs)
