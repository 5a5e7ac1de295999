"""Bokeh's notebook outputs in a page's saved outputs.

Bokeh writes JavaScript programs, not data: ``show(p)`` a script embedding the plot's document
(``application/javascript`` beside ``application/vnd.bokehjs_exec.v0+json``), ``output_notebook()``
a loader for BokehJS from a CDN and a "Loading BokehJS ..." banner. None of it runs on a page:
the script travels, inert, in an attribute, and the client reads the plot's data out of it
(``frontend/src/bokeh.ts``, a strict parser) and draws it with its own BokehJS.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["BANNER_TEXT", "EXEC_MIME", "LOAD_MIME", "bokeh_html"]

EXEC_MIME = "application/vnd.bokehjs_exec.v0+json"
LOAD_MIME = "application/vnd.bokehjs_load.v0+json"
BANNER_TEXT = "Bokeh plots on this page are drawn by its own copy of BokehJS."
"""What the banner of ``output_notebook()`` says instead (the same words as the client's)."""

_BANNER = re.compile(r'<span id="[\w-]+">Loading BokehJS \.\.\.</span>')


def bokeh_html(data: Mapping[str, Any]) -> str | None:
    """The saved form of a Bokeh output's MIME bundle; None when it is not one."""
    if EXEC_MIME in data:
        script = data.get("application/javascript")
        if isinstance(script, list):
            script = "".join(str(line) for line in script)
        if not isinstance(script, str):
            return (
                '<pre class="lc-output lc-error lc-bokeh-error">Could not draw this Bokeh plot: '
                "it is a Bokeh server app, which needs its Bokeh server</pre>"
            )
        return f'<div class="lc-output lc-bokeh" data-bokeh-script="{html.escape(script)}"></div>'
    if LOAD_MIME in data:
        return ""
    banner = data.get("text/html")
    if isinstance(banner, list):
        banner = "".join(str(line) for line in banner)
    if isinstance(banner, str) and 'class="bk-notebook-logo"' in banner and _BANNER.search(banner):
        return f'<div class="lc-output lc-bokeh-load">{BANNER_TEXT}</div>'
    return None
