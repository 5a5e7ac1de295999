"""The Content-Security-Policy of built pages: connections to exactly the runtimes the page
offers, inline scripts on trusted pages only. Each page is built by ``livecells build``."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
from pathlib import Path

import pytest

from livecells.site import build

CELL = "```{code-cell} python\n1\n```\n"
MYBINDER = (
    "https://*.mybinder.org:* https://mybinder.org:* https://notebooks.gesis.org:* "
    "wss://*.mybinder.org:* wss://mybinder.org:* wss://notebooks.gesis.org:*"
)
PAGES = {
    # name: (frontmatter, script-src after 'self', connect-src), sources in sorted order
    "pyodide": ("", "HASH 'wasm-unsafe-eval'", "'self'"),
    "server": (
        "jupyter:\n  server: {url: 'https://hub.example.org:8443/user/x/', token: t}\n",
        "HASH 'wasm-unsafe-eval'",
        "'self' https://hub.example.org:8443 wss://hub.example.org:8443",
    ),
    "server-only": (
        "jupyter:\n  server: {url: 'http://127.0.0.1:8888/', token: ''}\n"
        "livecells: {runtimes: []}\n",
        "HASH 'wasm-unsafe-eval'",
        "'self' http://127.0.0.1:8888 ws://127.0.0.1:8888",
    ),
    "mybinder": (
        "jupyter: {binder: {repo: o/r}}\nlivecells: {runtimes: []}\n",
        "HASH 'wasm-unsafe-eval'",
        f"'self' {MYBINDER}",
    ),
    "own-binderhub": (
        "jupyter: {binder: {repo: o/r, url: 'http://127.0.0.1:8585/'}}\n"
        "livecells: {runtimes: []}\n",
        "HASH 'wasm-unsafe-eval'",
        "'self' http://127.0.0.1:* ws://127.0.0.1:*",
    ),
    "cdn": (
        "livecells:\n  pyodide:\n    indexURL: [local, 'https://cdn.jsdelivr.net/pyodide/v0.29.3/full/']\n",
        "HASH 'wasm-unsafe-eval' https://cdn.jsdelivr.net",
        "'self' https://cdn.jsdelivr.net",
    ),
    "readers-own-server": (
        "livecells: {allowReaderServer: true}\n",
        "HASH 'wasm-unsafe-eval'",
        "*",
    ),
    "widget-esm": (
        "livecells: {allowWidgetESM: true}\n",
        "HASH 'wasm-unsafe-eval' blob:",
        "'self'",
    ),
    "trusted": (
        "livecells: {trusted: true}\n",
        "'unsafe-inline' 'wasm-unsafe-eval'",
        "'self'",
    ),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, output = tmp_path_factory.mktemp("csp-source"), tmp_path_factory.mktemp("csp-site")
    for name, (frontmatter, _, _) in PAGES.items():
        front = f"---\n{frontmatter}---\n" if frontmatter else ""
        (source / f"{name}.md").write_text(front + CELL)
    assert build(source, output).problems == []
    return output


@pytest.mark.parametrize("name", PAGES)
def test_each_page_may_connect_to_exactly_its_runtimes(site: Path, name: str) -> None:
    _, scripts, connect = PAGES[name]
    page = (site / f"{name}.html").read_text()
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert found is not None
    importmap = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert importmap is not None
    digest = base64.b64encode(hashlib.sha256(importmap.group(1).encode()).digest()).decode()
    scripts = scripts.replace("HASH", f"'sha256-{digest}'")
    assert html_lib.unescape(found.group(1)) == "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}",
            "worker-src 'self' blob:",
            f"connect-src {connect}",
            "style-src 'self' 'unsafe-inline'",
            "img-src * data: blob:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
        ]
    )
