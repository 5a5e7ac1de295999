"""``livecells serve _build/html``: a Sphinx build served as it is, its pages' config pointing
at the server's kernels, with nothing outside the folder reachable."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import JupyterServer, start_livecells_serve
from tests.sphinx.conftest import html_of, page_config_of, project, sphinx_build

from livecells.sphinx.built import page_policy


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = project(tmp_path_factory.mktemp("served"), "nbsphinx")
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    (root / "_build" / "secret.html").write_text("<p>the author's secret</p>")
    html = html_of(root)
    # A link inside the folder to a page outside it: no hidden or climbing part in its URL.
    (html / "linked.html").symlink_to(root / "_build" / "secret.html")
    return html


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(site)
    yield server
    server.stop()


@pytest.fixture
def client(served: JupyterServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{served.url}livecells/", timeout=30) as http:
        http.get("", params={"token": served.token})  # the login cookie
        yield http


def test_pages_are_sent_as_built_with_the_serving_kernels_first(
    site: Path, client: httpx.Client
) -> None:
    response = client.get("numbers.html")
    assert response.status_code == 200
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    config = page_config_of(response.text)
    assert config["runtime"] == "livecells"
    assert config["runtimes"] == ["livecells", "pyodide"]
    assert config["baseUrl"] == "/"
    built = (site / "numbers.html").read_text()
    assert (
        response.text.split('id="livecells-config"')[0] == built.split('id="livecells-config"')[0]
    )
    assert response.headers["Content-Security-Policy"] == page_policy(response.text)
    index = client.get("")
    assert index.status_code == 200
    assert index.text == (site / "index.html").read_text()  # no cells: as it is


def test_the_client_and_pyodide_come_from_the_builds_static_folder(
    site: Path, client: httpx.Client
) -> None:
    script = client.get("_static/livecells/livecells.js")
    assert script.status_code == 200
    assert script.content == (site / "_static" / "livecells" / "livecells.js").read_bytes()
    assert client.get("_static/livecells/pyodide/pyodide.asm.wasm").status_code == 200


@pytest.mark.parametrize(
    "path", ["..%2Fsecret.html", "%2e%2e/secret.html", ".buildinfo", "linked.html"]
)
def test_nothing_outside_the_folder_or_hidden_is_sent(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "secret" not in response.text


def test_public_pages_offer_only_the_runtimes_public_serving_allows(site: Path) -> None:
    server = start_livecells_serve(site, "--public")
    try:
        response = httpx.get(f"{server.url}livecells/numbers.html", timeout=30)
        assert response.status_code == 200
        config = page_config_of(response.text)
        assert (config["runtime"], config["runtimes"]) == ("livecells", ["livecells", "pyodide"])
    finally:
        server.stop()


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_a_built_pages_policy_lets_run_exactly_the_scripts_the_build_wrote() -> None:
    html = (
        '<script>var a = 1;</script><script type="module">b()</script>'
        '<script type="importmap">{"imports": {}}</script>'
        '<script id="livecells-config" type="application/json">{"runtime": "pyodide"}</script>'
        '<script src="_static/x.js"></script><script src="https://cdn.example.org/m.js"></script>'
        '<script src="//cdn.other.net/r.js"></script><script type="text/x-thebe-config">{}</script>'
        '<button onclick="go(&quot;x&quot;)">go</button>'
    )
    assert page_policy(html) == "; ".join(
        [
            "script-src "
            + " ".join(
                sorted(
                    [
                        "'self'",
                        "'wasm-unsafe-eval'",
                        "'unsafe-hashes'",
                        "https://cdn.example.org",
                        "https://cdn.other.net",
                        sha256("var a = 1;"),
                        sha256("b()"),
                        sha256('{"imports": {}}'),
                        sha256('go("x")'),
                    ]
                )
            ),
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
        ]
    )
    trusted = '<script>var a = 1;</script><script id="livecells-config" type="application/json">'
    trusted += '{"runtime": "pyodide", "trusted": true}</script>'
    assert page_policy(trusted).startswith("script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval';")
    esm = '<script id="livecells-config" type="application/json">{"allowWidgetESM": true}</script>'
    assert page_policy(esm).startswith("script-src 'self' 'wasm-unsafe-eval' blob:;")
    assert "blob:" not in page_policy(esm.replace("true", '"yes"')).split(";")[0]
