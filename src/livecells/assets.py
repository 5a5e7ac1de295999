"""How a page loads the client's files safely: Subresource Integrity and a Content Security Policy.

Every script and stylesheet of the client carries an SRI hash: the entry and the stylesheet in
their tags, the lazily imported chunks through the import map's ``integrity`` table, so a
tampered file on a host or cache is refused by the browser. Built pages also carry a CSP that
allows scripts from the site itself (plus WebAssembly compilation, for Pyodide; inline scripts
on trusted pages only) and connections to the site and the runtimes the page offers, and
nothing else (see :func:`_policy`; the Pyodide worker is not bound by it). Pyodide's own files
are loaded by its worker, where SRI does not reach: they come from the same origin, and every
wheel is checked against the sha256 of the site's lock file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from livecells.pageconfig import PageConfig

__all__ = ["STATIC_DIR", "Head", "head_for", "json_in_html"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The built browser client (``frontend/`` builds it here; never edited by hand)."""

_hashes: dict[Path, tuple[float, str]] = {}


def sri(path: Path) -> str:
    """``sha384-...`` of a file (cached while its mtime holds)."""
    mtime = path.stat().st_mtime
    cached = _hashes.get(path)
    if cached is None or cached[0] != mtime:
        digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
        cached = (mtime, f"sha384-{digest}")
        _hashes[path] = cached
    return cached[1]


@dataclass(frozen=True)
class Head:
    """What a page's ``<head>`` needs: integrity of the entry and stylesheet, the import map
    (JSON text) and the CSP (None: leave the host's policy alone)."""

    script_integrity: str
    style_integrity: str
    katex_integrity: str
    importmap: str
    csp: str | None


def head_for(static_dir: Path, static_url: str, config: PageConfig, *, csp: bool) -> Head | None:
    """The head of a page whose client files are ``static_dir``, served at ``static_url``;
    None when the client is not built."""
    entry = static_dir / "livecells.js"
    if not entry.is_file():
        return None
    # Integrity keys are URL-like specifiers, resolved against the page's URL: "/…", "./…" or
    # "../…" (or absolute). Chromium ignores any other key ("Integrity key is not a valid
    # absolute URL"), so a root page's "_livecells/…" becomes "./_livecells/…"; relative keys
    # keep a site working under any sub-path.
    base = static_url if static_url.startswith(URL_LIKE) else f"./{static_url}"
    chunks = {
        f"{base}{path.relative_to(static_dir).as_posix()}": sri(path)
        for path in sorted((static_dir / "chunks").glob("*.js"))
    }
    importmap = json_in_html({"imports": {}, "integrity": chunks})
    policy = _policy(config, importmap) if csp else None
    katex = static_dir / "katex" / "katex.min.css"
    return Head(
        sri(entry),
        sri(static_dir / "livecells.css"),
        sri(katex) if katex.is_file() else "",
        importmap,
        policy,
    )


URL_LIKE = ("/", "./", "../", "http://", "https://")


_HTML_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_in_html(value: Any) -> str:
    """``value`` as JSON text to put inside a ``<script>`` element: every ``<``, ``>`` and ``&``
    as a ``\\u`` escape (JSON means the same by it), so no ``</script>`` ends the element early
    and no ``<!--<script`` turns the rest of the page into script data; U+2028/2029 too, for
    readers that take the text as JavaScript."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).translate(_HTML_UNSAFE)


MYBINDER_FEDERATION = ("notebooks.gesis.org",)
"""Where mybinder.org launches servers outside its own domain (its other federation members are
subdomains of mybinder.org: ``hub.2i2c.mybinder.org``, ``ovh2.mybinder.org``, ...)."""


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _with_websocket(*sources: str) -> set[str]:
    """``sources`` and the same for WebSockets (``http`` -> ``ws``, ``https`` -> ``wss``)."""
    return {*sources, *(source.replace("http", "ws", 1) for source in sources)}


def _binder_sources(url: str) -> set[str]:
    """The BinderHub at ``url`` and the servers it launches: on its host (any port) or a
    subdomain of it, and, for mybinder.org, its federation members elsewhere."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return set()
    hosts = [host] + (list(MYBINDER_FEDERATION) if host == "mybinder.org" else [])
    if not host.replace(".", "").isdigit() and ":" not in host:  # a name, not an IP address
        hosts.append(f"*.{host}")
    return _with_websocket(*(f"{parts.scheme}://{name}:*" for name in hosts))


def _policy(config: PageConfig, importmap: str) -> str:
    """The page's CSP. Scripts: the site's, the import map (by its hash), WebAssembly
    compilation (Pyodide), MathJax's or a CDN's origin when configured; a trusted page runs
    its outputs' inline JavaScript (``'unsafe-inline'``, which a hash would switch off, so
    none is given). Connections: the site, and exactly the runtimes the page offers: the
    configured Jupyter Server, the BinderHub and its servers, Pyodide's index URLs; anywhere
    only when the reader may name a server of their own (``allowReaderServer``). ``blob:``
    scripts only when anywidget widgets may run their modules (``allowWidgetESM``): a blob
    URL is whatever script the page made, so it is off unless the author asks.

    A ``<meta>`` policy binds the page, not the Pyodide worker (a worker gets its policy from
    its script's response headers): Python in Pyodide, ``%pip install`` from PyPI included,
    reaches what the browser lets it."""
    digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
    scripts = {"'self'", "'wasm-unsafe-eval'"}
    scripts.add("'unsafe-inline'" if config.trusted else f"'sha256-{digest}'")
    if config.allow_widget_esm:
        scripts.add("blob:")
    connect = {"'self'"}
    for url in config.pyodide.index_urls if config.pyodide and config.offers("pyodide") else ():
        if origin := _origin(url):
            scripts.add(origin)
            connect.add(origin)
    if config.math.url and (origin := _origin(config.math.url)):
        scripts.add(origin)
    if config.server and config.offers("server") and (origin := _origin(config.server.url)):
        connect |= _with_websocket(origin)
    if config.binder and config.offers("binder"):
        connect |= _binder_sources(config.binder.url)
    if config.allow_reader_server and config.offers("server"):
        connect = {"*"}
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(sorted(scripts))}",
            "worker-src 'self' blob:",
            f"connect-src {' '.join(sorted(connect))}",
            "style-src 'self' 'unsafe-inline'",
            "img-src * data: blob:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
        ]
    )
