"""A notebook's saved widget state on its page: the views marked for the client, the state in
a script element only when a view needs it, escaped, version-checked and size-capped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

from livecells import render
from livecells.assets import json_in_html
from livecells.pages import Cell, Page
from livecells.render import render_outputs, saved_widget_state
from livecells.site import Site

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def view_output(model_id: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "text/plain": "IntSlider(value=4)",
            VIEW: {"version_major": 2, "version_minor": 0, "model_id": model_id},
        },
    }


def state(**models: Any) -> dict[str, Any]:
    return {"version_major": 2, "version_minor": 0, "state": models}


SLIDER = {
    "model_name": "IntSliderModel",
    "model_module": "@jupyter-widgets/controls",
    "model_module_version": "2.0.0",
    "state": {"value": 4, "description": "</script><script>alert(1)</script>"},
}


def page(outputs: list[dict[str, Any]], widget_state: Any) -> Page:
    return Page(Path("n.ipynb"), "n", {}, [Cell("code", "s", outputs)], widget_state=widget_state)


def test_a_widget_view_is_marked_with_its_model_and_keeps_its_text() -> None:
    html = render_outputs([view_output("abc123")])
    assert html == (
        '<div class="lc-widget" data-widget-model="abc123">'
        '<pre class="lc-output lc-text">IntSlider(value=4)</pre></div>'
    )


def test_a_view_with_a_hostile_model_id_is_plain_text() -> None:
    html = render_outputs([view_output('"><script>alert(1)</script>')])
    assert html == '<pre class="lc-output lc-text">IntSlider(value=4)</pre>'


def test_the_saved_state_goes_into_the_page_escaped(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("s", outputs=[nbformat.from_dict(view_output("m1"))])
    ]
    notebook.metadata["widgets"] = {STATE: state(m1=SLIDER)}
    nbformat.write(notebook, tmp_path / "n.ipynb")
    site = Site(tmp_path, default_runtime="pyodide")
    try:
        html = site.render(Path("n.ipynb"))
    finally:
        site.close()
    start = html.index(
        '<script type="application/vnd.jupyter.widget-state+json" id="lc-widget-state">'
    )
    text = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert "<" not in text
    assert json.loads(text) == state(m1=SLIDER)


def test_no_state_without_a_view_that_needs_it() -> None:
    assert saved_widget_state(page([], state(m1=SLIDER)), []) is None


def test_a_state_of_another_version_goes_in_for_the_browser_to_name_with_a_warning() -> None:
    warnings: list[str] = []
    old = {"version_major": 1, "state": {}}
    assert saved_widget_state(page([view_output("m1")], old), warnings) == json_in_html(old)
    assert warnings == [
        "n.ipynb: its saved widget state is not of version 2 (ipywidgets 8): widgets show as text"
    ]


def test_a_state_too_big_is_left_out_with_a_warning(monkeypatch: Any) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(render, "MAX_WIDGET_STATE", 100)
    assert saved_widget_state(page([view_output("m1")], state(m1=SLIDER)), warnings) is None
    assert warnings == [
        "n.ipynb: its saved widget state (259 bytes) is over the 100 bytes a page carries:"
        " left out, its widgets show as text",
    ]
