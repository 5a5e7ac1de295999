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

The bare comm path on the same kernel is the floor the widget layer adds to. The stack peer is
Voilà (0.5.13, ipywidgets 8.1.9, in its own virtual environment, ``--voila``, default
``/tmp/voila-venv/bin/voila``), measured in the same run on the same interaction as the served
livecells page (JupyterLab is not installed here):

* ``keyboard``: the same notebook (the first cell above) served by ``livecells serve`` and by a
  ``voila NOTEBOOK.ipynb`` subprocess (its venv's ``python3`` kernel); in each page the slider's
  noUiSlider handle (``.widget-hslider .noUi-handle``) is focused and ArrowRight pressed with
  Playwright's real keyboard; timed in the page from the ``keydown`` event (``performance.now()``
  in a capturing listener on ``document``) to the MutationObserver callback that sees the Label's
  view (``div.widget-label``) show the doubled new value. Each page's own widget manager
  (@jupyter-widgets/html-manager in livecells, Voilà's) and kernel WebSocket are on the path;
  Voilà's page load and kernel start are not timed. Two cadences, each page: presses back to
  back (the next one as soon as the Label showed the last) and 250 ms apart. On Voilà, back to
  back, the Label's ``comm_msg`` reaches the page ~40 ms after its kernel-side header date (the
  kernel's ``busy`` status before it arrives in a few ms), which pacing the presses removes; where
  between the kernel and the page it waits is not diagnosed here. A 40 ms wait on back-to-back
  small writes is the mark of Nagle's algorithm meeting delayed ACKs: stock jupyter_server leaves
  Nagle on for kernel WebSockets, livecells turns it off (``livecells.server.websocket``). If
  Voilà cannot start or its slider is not shown within its deadline, one line says why and the
  other measurements print.

Usage: ``python benchmarks/widgets.py [-n N] [--voila PATH]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Error as PlaywrightError
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


# Armed before each key press: resolves with the milliseconds from the ArrowRight keydown to the
# Label's view showing `text`, rejects after `timeout` ms (so no wait is without a deadline).
KEY_ARM = """([label, text, timeout]) => {
  const view = document.querySelector(label);
  let start = null, observer = null, timer = null;
  const onKey = (event) => {
    if (event.key === "ArrowRight" && start === null) start = performance.now();
  };
  const shown = new Promise((resolve) => {
    observer = new MutationObserver(() => {
      if (start !== null && view.textContent.trim() === text) resolve(performance.now() - start);
    });
    observer.observe(view, { childList: true, characterData: true, subtree: true });
  });
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`label not "${text}" after ${timeout} ms`)), timeout);
  });
  document.addEventListener("keydown", onKey, { capture: true });
  window.__keyRoundTrip = Promise.race([shown, late]).finally(() => {
    observer.disconnect();
    clearTimeout(timer);
    document.removeEventListener("keydown", onKey, { capture: true });
  });
}"""
KEY_TIMEOUT_MS = 15_000
PAUSE = 250


def measure_keyboard(page: Any, scope: str, runs: int, pause: int, warm: int = 5) -> list[float]:
    """ArrowRight pressed on the focused slider handle in ``scope``, timed in the page until the
    Label's view shows the doubled value (``runs`` timed presses after ``warm`` untimed ones, each
    ``pause`` ms after the previous one was shown)."""
    handle = page.locator(f"{scope} .widget-hslider .noUi-handle").first
    label = page.locator(f"{scope} div.widget-label").first
    selector = f"{scope} div.widget-label".strip()
    handle.wait_for(timeout=60_000)
    samples = []
    for i in range(1, runs + warm + 1):
        if pause:
            page.wait_for_timeout(pause)
        handle.focus(timeout=10_000)
        text = str(int(label.inner_text(timeout=10_000).strip()) + 2)  # the slider steps by 1
        page.evaluate(KEY_ARM, [selector, text, KEY_TIMEOUT_MS])
        page.keyboard.press("ArrowRight")
        elapsed = page.evaluate("() => window.__keyRoundTrip")
        if i > warm:
            samples.append(elapsed)
    return samples


def keyboard(page: Any, scope: str, runs: int) -> dict[str, list[float]]:
    """Both cadences: each press as soon as the previous one was shown, and 250 ms after it."""
    return {
        "back to back": measure_keyboard(page, scope, runs, 0),
        f"{PAUSE} ms apart": measure_keyboard(page, scope, runs, PAUSE),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_voila(browser: Any, voila: Path, runs: int) -> dict[str, list[float]] | str:
    """The keyboard round trip on Voilà's page of the same notebook, or why it was not measured."""
    if not voila.exists():
        return f"{voila} not found"
    with tempfile.TemporaryDirectory() as root:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        source = PAGE.split("```{code-cell} python\n", 1)[1].split("```", 1)[0]
        notebook.cells.append(nbformat.v4.new_code_cell(source))
        nbformat.write(notebook, Path(root, "bench.ipynb"))
        port = free_port()
        env = os.environ | {"PATH": f"{voila.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONPATH", None)  # the venv's kernel imports its own ipywidgets
        with open(Path(root, "voila.log"), "wb") as log:
            command = [str(voila), "bench.ipynb", "--no-browser", f"--port={port}"]
            try:
                process = subprocess.Popen(
                    [*command, "--Voila.ip=127.0.0.1"],
                    cwd=root,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            except OSError as error:
                return f"voila did not start: {error}"
            try:
                url = f"http://127.0.0.1:{port}/"
                # Polled on a path that is not the notebook (each GET of / starts a kernel).
                deadline = time.monotonic() + 60
                while True:
                    if process.poll() is not None:
                        tail = Path(root, "voila.log").read_text(errors="replace")[-300:]
                        return f"voila exited with {process.returncode}: {tail!r}"
                    try:
                        urllib.request.urlopen(f"{url}voila-probe", timeout=5).close()
                        break
                    except urllib.error.HTTPError:
                        break  # it answered
                    except OSError:
                        if time.monotonic() > deadline:
                            return "voila did not answer on its port within 60 s"
                        time.sleep(0.2)
                page = browser.new_page()
                try:
                    page.goto(url, timeout=60_000)
                    return keyboard(page, "", runs)
                except (PlaywrightError, ValueError) as error:
                    return f"{type(error).__name__}: {str(error).splitlines()[0]}"
                finally:
                    page.close()
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


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
        results |= {
            f"keyboard {cadence}": samples
            for cadence, samples in keyboard(page, ".lc-cell", runs).items()
        }
        page.locator(".lc-cell span.echo").wait_for(timeout=60_000)
        echo = streams.nth(1).inner_text().strip()
        results["anywidget, server"] = page.evaluate(WIDGETS, [echo, ".lc-cell span.echo", runs, 5])
    results[f"bare comm, {runtime} (peer)"] = page.evaluate(BARE, [*ids, runs, 5])
    page.close()
    return results


def main(runs: int, voila: Path) -> None:
    results: dict[str, list[float]] = {}
    voila_result: dict[str, list[float]] | str = "not run"
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
                other = chromium.new_context()  # Voilà's page: its own context
                voila_result = measure_voila(other, voila, runs)
                other.close()
                chromium.close()
        finally:
            server.stop()
    print(f"widget round trip (slider set -> observe -> label shown), {runs} runs each, ms")
    print(f"{'path':34} {'median':>8} {'p90':>8} {'ratio vs its peer':>18}")
    keys = [name for name in results if name.startswith("keyboard ")]
    mine = {name.removeprefix("keyboard "): results.pop(name) for name in keys}
    for name, samples in results.items():
        runtime = name.split(", ")[1].split()[0]
        peer = statistics.median(results[f"bare comm, {runtime} (peer)"])
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:34} {median:8.2f} {p90:8.2f} {median / peer:17.2f}x")
    print(f"ArrowRight on the slider's handle (keydown -> label shown), {runs} runs each, ms")
    print(f"{'page, presses':34} {'median':>8} {'p90':>8}")
    for page, measured in (("livecells serve", mine), ("Voilà 0.5.13 (peer)", voila_result)):
        if isinstance(measured, str):
            print(f"{page:34} not measured: {measured}")
            continue
        for cadence, samples in measured.items():
            p90 = statistics.quantiles(samples, n=10)[-1]
            print(f"{page + ', ' + cadence:34} {statistics.median(samples):8.2f} {p90:8.2f}")
    if not isinstance(voila_result, str):
        for cadence, samples in mine.items():
            ours, theirs = statistics.median(samples), statistics.median(voila_result[cadence])
            print(f"medians, {cadence}: livecells {ours:.2f} ms, Voilà {theirs:.2f} ms,", end=" ")
            print(f"Voilà / livecells {theirs / ours:.2f}x")
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
    parser.add_argument("--voila", type=Path, default=Path("/tmp/voila-venv/bin/voila"))
    arguments = parser.parse_args()
    main(arguments.runs, arguments.voila)
