"""Comms on runtime ``pyodide`` (Node.js), through the Kernel contract: ipywidgets from its
wheel (no IPython), a widget's comm_open as a message, a comm_msg from this side reaching the
widget's ``observe``, comm_info listing the open comms, and outputs that make a valid .ipynb."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import pytest_asyncio

import livecells
from livecells.cli import main
from livecells.runtimes.base import Kernel
from livecells.runtimes.comms import Comm
from livecells.wheels import fetch_wheels

ON_THE_KERNEL = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kernel() -> AsyncIterator[Kernel]:
    async with livecells.connect("pyodide", packages=["ipywidgets"]) as started:
        yield started


@ON_THE_KERNEL
async def test_ipywidgets_is_fetched_without_ipython(tmp_path: Path) -> None:
    wheels = await asyncio.to_thread(fetch_wheels, ["ipywidgets"], tmp_path)
    names = sorted(p.name.split("-")[0].lower() for p in wheels.directory.glob("*.whl"))
    assert names == ["comm", "ipywidgets", "micropip", "packaging", "traitlets"]


@ON_THE_KERNEL
async def test_a_widget_opens_comms_and_a_comm_msg_reaches_its_observer(kernel: Kernel) -> None:
    opened: list[tuple[Comm, Any]] = []
    kernel.register_comm_target("jupyter.widget", lambda comm, msg: opened.append((comm, msg)))
    result = await kernel.execute(
        "import ipywidgets as w\n"
        "seen = []\n"
        "s = w.IntSlider(value=3, max=10)\n"
        "s.observe(lambda change: seen.append(change['new']), 'value')\n"
        "s"
    )
    models = {msg.content["data"]["state"]["_model_name"]: msg for _, msg in opened}
    assert sorted(models) == ["IntSliderModel", "LayoutModel", "SliderStyleModel"]
    slider_msg = models["IntSliderModel"]
    assert slider_msg.metadata == {"version": "2.1.0"}
    assert slider_msg.content["data"]["state"]["value"] == 3
    view = result.outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == slider_msg.content["comm_id"]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("s", outputs=result.outputs, execution_count=1)]
    )
    nbformat.validate(nbformat.from_dict(notebook))

    slider = next(comm for comm, msg in opened if msg is slider_msg)
    await slider.send({"method": "update", "state": {"value": 7}, "buffer_paths": []})
    after = await kernel.execute("print(seen, s.value)")
    assert after.stdout == "[7] 7\n"

    info = await kernel.request("comm_info_request", {"target_name": "jupyter.widget"})
    assert info.content["comms"][slider.comm_id] == {"target_name": "jupyter.widget"}


@ON_THE_KERNEL
async def test_python_setting_a_value_sends_a_comm_msg(kernel: Kernel) -> None:
    updates: asyncio.Queue[Any] = asyncio.Queue()
    kernel.register_comm_target(
        "jupyter.widget", lambda comm, msg: comm.on_msg(lambda m: updates.put_nowait(m))
    )
    await kernel.execute("import ipywidgets\nt = ipywidgets.IntText(value=1)")
    await kernel.execute("t.value = 42")
    update = await asyncio.wait_for(updates.get(), 30)
    assert update.content["data"] == {
        "method": "update",
        "state": {"value": 42},
        "buffer_paths": [],
    }


@ON_THE_KERNEL
async def test_binary_buffers_cross_both_ways(kernel: Kernel) -> None:
    opened: list[tuple[Comm, Any]] = []
    kernel.register_comm_target("jupyter.widget", lambda comm, msg: opened.append((comm, msg)))
    await kernel.execute("import ipywidgets\nimage = ipywidgets.Image(value=b'\\x89PNG\\x00\\xff')")
    comm, msg = opened[-1]  # the Image (its Layout opened first)
    assert msg.content["data"]["state"]["_model_name"] == "ImageModel"
    assert msg.content["data"]["buffer_paths"] == [["value"]]
    assert msg.buffers == [b"\x89PNG\x00\xff"]
    update = {"method": "update", "state": {}, "buffer_paths": [["value"]]}
    await kernel.send_shell(
        "comm_msg", {"comm_id": comm.comm_id, "data": update}, buffers=[b"GIF89a\x00"]
    )
    after = await kernel.execute("print(bytes(image.value))")  # a memoryview, as from ipykernel
    assert after.stdout == "b'GIF89a\\x00'\n"


@ON_THE_KERNEL
async def test_an_output_widget_formats_what_it_is_given_with_the_kernels_formatter(
    kernel: Kernel,
) -> None:
    result = await kernel.execute(
        "import json, ipywidgets\nfrom IPython.display import HTML\n"
        "out = ipywidgets.Output()\nout.append_display_data(HTML('<b>kept</b>'))\n"
        "print(json.dumps(out.outputs))"
    )
    assert json.loads(result.stdout) == [
        {
            "output_type": "display_data",
            "data": {
                "text/html": "<b>kept</b>",
                "text/plain": "<IPython.core.display.HTML object>",
            },
            "metadata": {},
        }
    ]


def test_livecells_run_gives_a_notebook_that_imports_ipywidgets_its_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a build gives its page: no requirements.txt names ipywidgets, the import does."""
    monkeypatch.chdir(tmp_path)
    code = "import ipywidgets\nipywidgets.IntSlider(value=5)"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(notebook, tmp_path / "slider.ipynb")
    assert main(["run", "--runtime", "pyodide", "slider.ipynb"]) == 0
    executed = nbformat.read(tmp_path / "executed" / "slider.ipynb", as_version=4)
    nbformat.validate(executed)
    data = executed.cells[0].outputs[0]["data"]
    assert data["text/plain"] == "IntSlider(value=5)"
    assert data["application/vnd.jupyter.widget-view+json"]["version_major"] == 2
