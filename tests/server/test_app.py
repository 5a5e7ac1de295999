"""``livecells serve``: a real server process on 127.0.0.1, spoken to over HTTP."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import JupyterServer, livecells_cli, page_config_of, start_livecells_serve

from livecells.server.app import LivecellsApp
from livecells.server.websocket import NoDelayWebsocketConnection

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(EXAMPLES, root, dirs_exist_ok=True)
    (root / "off.md").write_text(
        "---\njupyter: false\n---\n# Off\n\n```{code-cell} python\nprint(1)\n```\n"
    )
    (root / "picture.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return root


@pytest.fixture(scope="module")
def served(book: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(book)
    yield server
    server.stop()


@pytest.fixture
def client(served: JupyterServer) -> Iterator[httpx.Client]:
    """A browser-like client: it opened the tokenised URL once, and holds the login cookie."""
    with httpx.Client(base_url=served.url, follow_redirects=True, timeout=10) as http:
        assert http.get(f"livecells/?token={served.token}").status_code == 200
        yield http


def test_pages_need_the_login_the_tokenised_url_gives(served: JupyterServer) -> None:
    response = httpx.get(f"{served.url}livecells/basics.html", follow_redirects=False)
    assert response.status_code in (302, 403)


def test_a_page_never_contains_the_token(served: JupyterServer, client: httpx.Client) -> None:
    html = client.get("livecells/basics.html").text
    assert "print(&#34;Hello from the kernel&#34;)" in html or "Hello from the kernel" in html
    assert served.token not in html


def test_a_page_runs_on_the_servers_own_kernels(client: httpx.Client) -> None:
    config = page_config_of(client.get("livecells/basics.html").text)
    assert config["runtime"] == "livecells"
    assert config["baseUrl"] == "/"
    assert config["kernelName"] == "python3"
    assert config["path"] == "basics.md"
    assert config["staticUrl"] == "_livecells/"


def test_pages_are_cross_origin_isolated(client: httpx.Client) -> None:
    response = client.get("livecells/basics.html")
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["cross-origin-embedder-policy"] == "credentialless"


def test_the_index_is_the_first_page_of_the_table_of_contents(client: httpx.Client) -> None:
    html = client.get("livecells/").text
    assert "<title>Welcome · livecells examples</title>" in html
    assert 'href="basics.html"' in html


def test_stored_outputs_are_the_static_fallback(client: httpx.Client) -> None:
    html = client.get("livecells/outputs.html").text
    assert '<div class="lc-output lc-html"><table>' in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_a_page_with_jupyter_false_is_not_live(client: httpx.Client) -> None:
    assert page_config_of(client.get("livecells/off.html").text)["runtime"] is None


def test_the_client_and_the_folders_files_are_served(client: httpx.Client) -> None:
    assert client.get("livecells/_livecells/livecells.js").status_code == 200
    picture = client.get("livecells/picture.svg")
    assert picture.headers["content-type"] == "image/svg+xml"


def test_nothing_outside_the_folder_is_served(client: httpx.Client) -> None:
    assert client.get("livecells/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("livecells/missing.html").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".ipynb_checkpoints/basics-checkpoint.ipynb",
        "__pycache__/m.pyc",
        "_site/x.js",
    ],
)
def test_hidden_cache_and_build_files_are_never_served(
    book: Path, client: httpx.Client, path: str
) -> None:
    (book / path).parent.mkdir(parents=True, exist_ok=True)
    (book / path).write_text("url = https://user:token@example.org/repo.git\n")
    assert client.get(f"livecells/{path}").status_code == 404
    assert client.get("livecells/picture.svg").status_code == 200  # the control


@pytest.mark.parametrize("path", ["livecells/a%00.html", "livecells/" + "a" * 2000 + ".html"])
def test_a_nul_byte_or_an_overlong_path_is_404_not_500(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_changed_file_is_rendered_anew_and_open_pages_are_told(
    book: Path, client: httpx.Client
) -> None:
    page = book / "changing.md"
    page.write_text("# Before\n")
    assert "Before" in client.get("livecells/changing.html").text
    with client.stream("GET", "livecells/api/changes", params={"path": "changing.md"}) as events:
        lines = events.iter_lines()
        assert next(lines) == ": watching"
        time.sleep(0.2)
        page.write_text("# After\n")
        assert "event: changed" in list(lines)  # then the stream ends
    assert "After" in client.get("livecells/changing.html").text


def test_a_pages_warnings_are_printed_once_when_it_is_rendered(
    book: Path, served: JupyterServer, client: httpx.Client
) -> None:
    (book / "warned.md").write_text("# Warned\n\n:::{nosuch}\n:::\n")
    for _ in range(2):
        assert client.get("livecells/warned.html").status_code == 200
    told = "livecells: warning: warned.md:3: unknown directive: nosuch"
    assert served.log.read_text().count(told) == 1


def test_a_broken_page_shows_its_error_and_the_others_still_work(
    book: Path, client: httpx.Client
) -> None:
    (book / "broken.ipynb").write_text("{not json")
    response = client.get("livecells/broken.html")
    assert response.status_code == 500
    assert "broken.ipynb: not a notebook: invalid JSON" in response.text
    assert client.get("livecells/basics.html").status_code == 200


def test_kernel_websockets_set_tcp_nodelay() -> None:
    server = LivecellsApp.initialize_server(argv=["--ServerApp.port=0", "--no-browser"])
    assert server.kernel_websocket_connection_class is NoDelayWebsocketConnection


def test_bad_config_stops_serve_with_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "livecells.yml").write_text("project:\n  jupyter:\n    kernelName: 3\n")
    done = livecells_cli("serve", str(tmp_path), "--no-browser")
    assert done.returncode == 2
    assert "livecells.yml" in done.stderr and "kernelName" in done.stderr


def test_serve_help_names_the_jupyter_server_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "livecells", "serve", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "--no-browser" in done.stdout and "--port" in done.stdout
