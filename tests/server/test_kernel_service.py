"""The kernel service of ``livecells serve --public`` for JupyterLab, thebe and MyST clients:
``/api/sessions`` and ``GET /api/kernels``, each visitor seeing only their own; CORS with
credentials for ``--allow-origin`` sites only. A real server, real kernels, and a real
``@jupyterlab/services`` client under Node.js."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import JupyterServer, livecells_cli
from tests.kernel_service.bundles import build_bundles
from tests.server.test_public import Visitor, serve_public, text_of

from livecells.node import node_executable

BOOK = "https://book.example.org"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = serve_public(
        tmp_path_factory,
        "--pool-size=0",
        "--max-kernels-per-visitor=2",
        "--kernel-starts-per-minute=30",
        f"--allow-origin={BOOK}/",
    )
    yield server
    server.stop()


def new_session(
    visitor: Visitor, path: str, headers: dict[str, str] | None = None, **extra: Any
) -> Any:
    model = {"path": path, "type": "notebook", "kernel": {"name": "python3"}} | extra
    return visitor.request("POST", "api/sessions", json=model, headers=headers or {})


def test_a_visitor_sees_and_touches_only_their_own_sessions_and_kernels(
    service: JupyterServer,
) -> None:
    alice, bob = Visitor(service), Visitor(service)
    created = new_session(alice, "index.md")
    assert created.status_code == 201, created.text
    session, kernel = created.json()["id"], created.json()["kernel"]["id"]
    assert created.headers["location"] == f"/api/sessions/{session}"
    assert "6" in text_of(alice.run(kernel, "print(2 * 3)"))
    assert [s["id"] for s in alice.request("GET", "api/sessions").json()] == [session]
    assert alice.request("GET", f"api/sessions/{session}").json()["kernel"]["id"] == kernel
    assert [k["id"] for k in alice.request("GET", "api/kernels").json()] == [kernel]
    # Bob: none of it exists.
    assert bob.request("GET", "api/sessions").json() == []
    assert bob.request("GET", "api/kernels").json() == []
    for method in ("GET", "PATCH", "DELETE"):
        response = bob.request(method, f"api/sessions/{session}", json={"name": "mine"})
        assert response.status_code == 404, method
    assert new_session(bob, "x.md", kernel={"id": kernel}).status_code == 404
    # The same path is another session, on a kernel of his own.
    his = new_session(bob, "index.md").json()
    assert his["kernel"]["id"] != kernel
    grab = {"kernel": {"id": kernel}}
    assert bob.request("PATCH", f"api/sessions/{his['id']}", json=grab).status_code == 404
    # Alice renames hers, then ends it: the kernel goes with it.
    renamed = alice.request("PATCH", f"api/sessions/{session}", json={"name": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed"
    assert alice.request("DELETE", f"api/sessions/{session}").status_code == 204
    assert alice.request("GET", f"api/kernels/{kernel}").status_code == 404
    assert bob.request("DELETE", f"api/sessions/{his['id']}").status_code == 204


def test_session_starts_obey_the_visitors_limits(service: JupyterServer) -> None:
    alice = Visitor(service)
    unknown = new_session(alice, "d.md", kernel={"name": "no-such"})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "this site has no kernel named 'no-such'"
    ids = [new_session(alice, f"{name}.md").json()["id"] for name in "ab"]
    third = new_session(alice, "c.md")
    assert third.status_code == 429
    assert "you already have 2 running kernels" in third.json()["message"]
    for session in ids:
        assert alice.request("DELETE", f"api/sessions/{session}").status_code == 204


@pytest.mark.parametrize("path", ["a\0b.md", "x" * 5000])
def test_a_malformed_session_path_is_404(service: JupyterServer, path: str) -> None:
    assert new_session(Visitor(service), path).status_code == 404


def test_pages_of_a_listed_site_may_use_it_with_the_visitors_cookie(
    service: JupyterServer,
) -> None:
    reader = Visitor(service, origin=BOOK)
    cookie = reader.page.headers["set-cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie
    assert (
        f"pages of {BOOK} may use this site's kernels with the visitor's cookie, which is then "
        "SameSite=None; Secure: serve this site over HTTPS"
    ) in service.log.read_text()
    preflight = reader.http.options(
        "api/sessions",
        headers={
            "Origin": BOOK,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == BOOK
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    # No _xsrf: the other site's page cannot read this site's cookies.
    created = new_session(reader, "index.md", headers={"X-XSRFToken": ""})
    assert created.status_code == 201, created.text
    assert created.headers["access-control-allow-origin"] == BOOK
    # A refusal keeps its CORS headers, so the page can read why.
    assert new_session(reader, "b.md").status_code == 201
    refused = new_session(reader, "c.md", headers={"X-XSRFToken": ""})
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == BOOK
    for session in reader.request("GET", "api/sessions").json():
        assert reader.request("DELETE", f"api/sessions/{session['id']}").status_code == 204


@pytest.mark.parametrize("origin", ["https://evil.example", "http://book.example.org"])
def test_pages_of_other_sites_may_not(service: JupyterServer, origin: str) -> None:
    reader = Visitor(service)
    preflight = reader.http.options(
        "api/sessions", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    for xsrf in ("", reader.http.cookies.get("_xsrf", "")):
        refused = new_session(reader, "index.md", headers={"Origin": origin, "X-XSRFToken": xsrf})
        assert refused.status_code in (403, 404)
        assert "access-control-allow-origin" not in refused.headers
    assert reader.request("GET", "api/kernels").json() == []


def test_the_cookie_stays_samesite_strict_without_allow_origin(tmp_path: Path) -> None:
    done = livecells_cli("serve", str(tmp_path), "--public", "--allow-origin=https://x.org/a")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "livecells serve: error: --allow-origin 'https://x.org/a': not an origin; give the "
        "other site's scheme, host and port only, e.g. https://book.example.org"
    )
    done = livecells_cli("serve", str(tmp_path), f"--allow-origin={BOOK}")
    assert done.returncode == 2
    assert "--allow-origin only applies with --public" in done.stderr


def test_a_jupyterlab_client_starts_a_session_and_lists_only_its_own_kernels(
    service: JupyterServer, tmp_path: Path
) -> None:
    bundles = build_bundles(tmp_path)
    bob = Visitor(service)
    his = bob.start_kernel()
    done = subprocess.run(
        [str(node_executable()), str(bundles / "jlab-client.mjs"), service.url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["text"] == "42\n"
    assert seen["kernels"] == [seen["kernel"]] and his not in seen["kernels"]
    assert seen["sessions"] == [seen["session"]]
    assert [k["id"] for k in bob.request("GET", "api/kernels").json()] == [his]
    assert bob.request("DELETE", f"api/kernels/{his}").status_code == 204


def test_without_cookies_a_listed_sites_reader_is_their_token_at_their_address(
    service: JupyterServer,
) -> None:
    """thebe as MyST configures it sends no cookie to another site, but a random token per
    page: that token, at that address, is one reader; the same token from elsewhere is not."""

    def client(address: str, token: str) -> httpx.Client:
        headers = {"Origin": BOOK, "X-Forwarded-For": address, "Authorization": f"token {token}"}
        return httpx.Client(base_url=service.url, headers=headers, timeout=30)

    reader, elsewhere = client("10.9.9.9", "1f2e3d4c"), client("10.9.9.10", "1f2e3d4c")
    started = reader.post("api/kernels", json={"name": "python3"})
    assert started.status_code == 201, started.text
    kernel = started.json()["id"]
    assert [k["id"] for k in reader.get("api/kernels").json()] == [kernel]
    assert elsewhere.get("api/kernels").json() == []
    assert elsewhere.get(f"api/kernels/{kernel}").status_code == 403
    # A token too short to stand for anyone makes a stranger of every request.
    short = client("10.9.9.9", "abc")
    assert short.post("api/kernels", json={"name": "python3"}).status_code == 201
    assert short.get("api/kernels").json() == []
    assert reader.delete(f"api/kernels/{kernel}").status_code == 204
