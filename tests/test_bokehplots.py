"""Bokeh's notebook outputs in saved outputs: the plot's script travels inert for the client,
the loader is dropped, the "Loading BokehJS ..." banner says what draws the plots."""

from __future__ import annotations

import html

from bokeh.core.templates import NOTEBOOK_LOAD
from bokeh.embed.notebook import notebook_content
from bokeh.plotting import figure

from livecells.bokehplots import BANNER_TEXT, EXEC_MIME, LOAD_MIME
from livecells.render import render_outputs


def display(data: dict[str, object]) -> dict[str, object]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def test_a_shown_plot_keeps_its_script_as_an_attribute_only() -> None:
    plot = figure()
    plot.line([1, 2, 3], [4, 6, 5])
    script, div, _ = notebook_content(plot)
    shown = render_outputs([display({"application/javascript": script, EXEC_MIME: ""})])
    assert shown == (
        f'<div class="lc-output lc-bokeh" data-bokeh-script="{html.escape(script)}"></div>'
    )
    # nbformat may store it as a list of lines; the div beside it is HTML, as any.
    lines = script.splitlines(keepends=True)
    assert render_outputs([display({"application/javascript": lines, EXEC_MIME: ""})]) == shown
    assert "lc-bokeh" not in render_outputs([display({"text/html": div})])


def test_a_server_app_is_one_line_the_loader_nothing_and_the_banner_ours() -> None:
    app = render_outputs(
        [display({"text/html": "<script>x()</script>", EXEC_MIME: {"server_id": "s"}})]
    )
    assert app == (
        '<pre class="lc-output lc-error lc-bokeh-error">Could not draw this Bokeh plot: '
        "it is a Bokeh server app, which needs its Bokeh server</pre>"
    )
    assert (
        render_outputs([display({"application/javascript": "load()", LOAD_MIME: "load()"})]) == ""
    )
    banner = NOTEBOOK_LOAD.render(
        element_id="e1f2", verbose=False, bokeh_version="3.9.2", warnings=[]
    )
    assert "Loading BokehJS ..." in banner
    assert render_outputs([display({"text/html": banner})]) == (
        f'<div class="lc-output lc-bokeh-load">{BANNER_TEXT}</div>'
    )
    # Other HTML that mentions Bokeh is HTML.
    assert render_outputs([display({"text/html": "<span>Loading BokehJS ...</span>"})]) == (
        '<div class="lc-output lc-html"><span>Loading BokehJS ...</span></div>'
    )
