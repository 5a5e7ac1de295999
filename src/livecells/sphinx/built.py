"""A Sphinx build (``_build/html``) served by ``livecells serve``: its pages are sent as they
are, except for their page config, where the serving kernels come first.

The extension writes each page's config for any static host: the runtime the project chose
(Pyodide, Binder, a Jupyter Server). Served by livecells, :func:`served_page` puts the server's
own kernels (``livecells``) first, the configured runtime still offered after them, and sets
what :func:`livecells.pageconfig.served` sets on livecells' own pages (base URL, ``autoRun``
override); ``--public`` narrows the choice to the runtimes it allows.

Each such page is sent with a Content-Security-Policy (:func:`page_policy`) that lets run exactly
the scripts the build wrote (its files, the hosts its ``<script src>`` name, its inline scripts and
handlers by their hashes), so that a script put in the page by anything else, an output
included, does not run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Set
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from livecells.assets import json_in_html
from livecells.config import PROJECT_FILES
from livecells.pageconfig import Served

__all__ = ["is_built_html", "page_policy", "served_page"]

CONFIG_SCRIPT = re.compile(r'(<script\b[^>]*\bid="livecells-config"[^>]*>)(.*?)(</script>)', re.S)


def is_built_html(root: Path) -> bool:
    """A folder of built HTML (Sphinx's: ``index.html`` and ``_static/``), not of sources (no
    livecells or MyST project file)."""
    return (
        (root / "index.html").is_file()
        and (root / "_static").is_dir()
        and not any((root / name).is_file() for name in PROJECT_FILES)
    )


def _page_config(html: str) -> tuple[re.Match[str] | None, dict[str, Any]]:
    """The page's config element and the object it holds ({} when it is not a JSON object)."""
    match = CONFIG_SCRIPT.search(html)
    try:
        config = json.loads(match.group(2)) if match is not None else {}
    except ValueError:
        config = {}
    return match, config if isinstance(config, dict) else {}


def served_page(html: str, by: Served, *, switchable: Set[str] | None = None) -> str:
    """``html`` with its page config as ``livecells serve`` gives it; unchanged when the page
    has none, or is not live. ``switchable``: the runtimes a reader may use (``--public``)."""
    match, config = _page_config(html)
    if match is None or not config.get("runtime"):
        return html
    offered = ["livecells", *(name for name in config.get("runtimes") or () if name != "livecells")]
    if switchable is not None:
        offered = [name for name in offered if name in switchable]
    config.update(runtime="livecells", runtimes=offered, baseUrl=by.base_url, watch=False)
    if by.auto_run is not None:
        config["autoRun"] = by.auto_run
    start, end = match.span(2)
    return html[:start] + json_in_html(config) + html[end:]


# <script type=...> that browsers run (the others are data blocks, which a CSP does not bind).
SCRIPT_TYPES = frozenset({"", "text/javascript", "application/javascript", "module", "importmap"})


class _Scripts(HTMLParser):
    """What a page runs: its inline scripts, its scripts' hosts and its inline handlers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline: list[str] = []
        self.hosts: set[str] = set()
        self.handlers: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        self.handlers += [value for name, value in named.items() if name.startswith("on")]
        if tag != "script" or named.get("type", "").strip().lower() not in SCRIPT_TYPES:
            return
        if "src" not in named:
            self._script = []
            return
        parts = urlsplit(named["src"].strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            self.hosts.add(f"{parts.scheme}://{parts.netloc}")
        elif named["src"].strip().startswith("//") and parts.netloc:
            self.hosts.add(f"https://{parts.netloc}")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.inline.append("".join(self._script))
            self._script = None


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_policy(html: str) -> str:
    """The CSP of a built page as served: its own scripts may run, nothing else. Scripts: the
    site's files, the hosts the page loads scripts from (a CDN's MathJax or require.js),
    WebAssembly compilation (Pyodide), its inline scripts and ``on…`` handlers by their
    hashes; on a trusted page (outputs' JavaScript runs), any inline script; ``blob:`` modules
    where the page runs anywidget modules (``allowWidgetESM``). Styles, images,
    fonts and connections are left as the site has them; no plugins, no ``<base>`` elsewhere."""
    scripts = _Scripts()
    scripts.feed(html)
    scripts.close()
    _, config = _page_config(html)
    trusted = config.get("trusted") is True
    sources = {"'self'", "'wasm-unsafe-eval'", *scripts.hosts}
    if config.get("allowWidgetESM") is True:  # anywidget modules, imported from blob: URLs
        sources.add("blob:")
    if trusted:
        sources.add("'unsafe-inline'")  # a hash would switch it off: none is given
    else:
        sources |= {_sha256(text) for text in scripts.inline + scripts.handlers}
        if scripts.handlers:
            sources.add("'unsafe-hashes'")
    return "; ".join(
        [
            f"script-src {' '.join(sorted(sources))}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
        ]
    )
