"""A Sphinx build (``_build/html``) served by ``livecells serve``: its pages are sent as they
are, except for their page config, where the serving kernels come first.

The extension writes each page's config for any static host: the runtime the project chose
(Pyodide, Binder, a Jupyter Server). Served by livecells, :func:`served_page` puts the server's
own kernels (``livecells``) first, the configured runtime still offered after them, and sets
what :func:`livecells.pageconfig.served` sets on livecells' own pages (base URL, ``autoRun``
override); ``--public`` narrows the choice to the runtimes it allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set
from pathlib import Path

from livecells.assets import json_in_html
from livecells.config import PROJECT_FILES
from livecells.pageconfig import Served

__all__ = ["is_built_html", "served_page"]

CONFIG_SCRIPT = re.compile(r'(<script\b[^>]*\bid="livecells-config"[^>]*>)(.*?)(</script>)', re.S)


def is_built_html(root: Path) -> bool:
    """A folder of built HTML (Sphinx's: ``index.html`` and ``_static/``), not of sources (no
    livecells or MyST project file)."""
    return (
        (root / "index.html").is_file()
        and (root / "_static").is_dir()
        and not any((root / name).is_file() for name in PROJECT_FILES)
    )


def served_page(html: str, by: Served, *, switchable: Set[str] | None = None) -> str:
    """``html`` with its page config as ``livecells serve`` gives it; unchanged when the page
    has none, or is not live. ``switchable``: the runtimes a reader may use (``--public``)."""
    match = CONFIG_SCRIPT.search(html)
    if match is None:
        return html
    try:
        config = json.loads(match.group(2))
    except ValueError:
        return html
    if not isinstance(config, dict) or not config.get("runtime"):
        return html
    offered = ["livecells", *(name for name in config.get("runtimes") or () if name != "livecells")]
    if switchable is not None:
        offered = [name for name in offered if name in switchable]
    config.update(runtime="livecells", runtimes=offered, baseUrl=by.base_url, watch=False)
    if by.auto_run is not None:
        config["autoRun"] = by.auto_run
    start, end = match.span(2)
    return html[:start] + json_in_html(config) + html[end:]
