"""``livecells serve --public`` against a hostile visitor: each attack found on 127.0.0.1, as a
test against a real server with real ipykernels (and the same attack's control that succeeds,
where one shows the test can fail)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import JupyterServer, start_livecells_serve
from tests.server.test_public import PAGE, Visitor, execute, serve_public, text_of
from tornado.httpclient import HTTPClientError


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = serve_public(
        tmp_path_factory,
        "--pool-size=0",
        "--max-kernels-per-visitor=2",
        "--kernel-starts-per-minute=30",
        "--max-output-bytes=20000",
        "--PublicWebsocketConnection.max_websockets=3",
    )
    root = server.root
    (root / "sub").mkdir()
    (root / "data.csv").write_text("a,b\n1,2\n")
    for hidden in (
        ".git/config",
        ".env",
        ".ipynb_checkpoints/index-checkpoint.ipynb",
        "sub/.secret/key.txt",
        "__pycache__/mod.cpython-311.pyc",
        "node_modules/lib/index.js",
        "_build/html/index.html",
    ):
        (root / hidden).parent.mkdir(parents=True, exist_ok=True)
        (root / hidden).write_text("url = https://user:token@example.org/repo.git\n")
    yield server
    server.stop()


def delete(visitor: Visitor, kernel: str) -> None:
    assert visitor.request("DELETE", f"api/kernels/{kernel}").status_code == 204


# -- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".env",
        ".ipynb_checkpoints/index-checkpoint.ipynb",
        "sub/.secret/key.txt",
        "__pycache__/mod.cpython-311.pyc",
        "node_modules/lib/index.js",
        "_build/html/index.html",
        "sub/../.git/config",
        "%2Egit/config",
    ],
)
def test_hidden_cache_and_build_files_are_never_served(public: JupyterServer, path: str) -> None:
    visitor = Visitor(public)
    assert visitor.http.get(f"livecells/{path}").status_code == 404
    assert visitor.http.get("livecells/data.csv").text == "a,b\n1,2\n"  # the control


@pytest.mark.parametrize(
    "path", ["livecells/a%00b.html", "livecells/%00", "livecells/" + "a/" * 3000 + "x.html"]
)
def test_malformed_paths_answer_404_not_500(public: JupyterServer, path: str) -> None:
    assert Visitor(public).http.get(path).status_code == 404


def test_a_large_file_is_sent_whole_in_chunks(public: JupyterServer) -> None:
    body = bytes(range(256)) * 4096 * 3  # 3 MiB: many chunks
    (public.root / "large.bin").write_bytes(body)
    response = Visitor(public).http.get("livecells/large.bin")
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body


def test_metrics_are_closed_to_visitors(public: JupyterServer) -> None:
    response = Visitor(public).http.get("metrics")
    assert response.status_code == 404
    assert "process_cpu_seconds_total" not in response.text


# -- kernel starts ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../../../tmp/x.ipynb", "sub/../../x.ipynb", "sub/\0.ipynb"])
def test_a_kernel_path_outside_the_folder_is_refused(public: JupyterServer, path: str) -> None:
    alice = Visitor(public)
    started = alice.request("POST", "api/kernels", json={"name": "python3", "path": path})
    assert started.status_code == 404, started.text
    session = {"path": path, "type": "notebook", "kernel": {"name": "python3"}}
    assert alice.request("POST", "api/sessions", json=session).status_code == 404
    assert alice.request("GET", "api/kernels").json() == []


def test_a_kernel_path_inside_the_folder_starts_there(public: JupyterServer) -> None:
    alice = Visitor(public)
    started = alice.request("POST", "api/kernels", json={"name": "python3", "path": "sub/a.md"})
    assert started.status_code == 201, started.text
    kernel = started.json()["id"]
    where = text_of(alice.run(kernel, "import os; print(os.getcwd())")).strip()
    assert Path(where).resolve() == (public.root / "sub").resolve()
    delete(alice, kernel)


def test_an_unknown_kernel_name_is_404(public: JupyterServer) -> None:
    alice = Visitor(public)
    response = alice.request("POST", "api/kernels", json={"name": "no-such-kernel"})
    assert response.status_code == 404
    assert response.json()["message"] == "this site has no kernel named 'no-such-kernel'"


# -- limits per address -----------------------------------------------------------------------


def test_cookie_jars_from_one_address_share_its_limit(tmp_path: Path) -> None:
    """Without --trust-forwarded-headers the address is the socket's peer, whatever a client
    claims in X-Forwarded-For."""
    (tmp_path / "index.md").write_text(PAGE)
    server = start_livecells_serve(
        tmp_path, "--public", "--pool-size=0", "--max-kernels-per-visitor=2"
    )
    try:
        jars = [Visitor(server) for _ in range(4)]  # each claims an address of its own
        codes = [
            jar.request("POST", "api/kernels", json={"name": "python3"}).status_code for jar in jars
        ]
        assert codes == [201, 201, 429, 429]
        assert "hit the per-visitor kernel limit (2) from 127.0.0.1" in server.log.read_text()
    finally:
        server.stop()


def test_behind_a_proxy_the_right_most_forwarded_hop_is_the_address(
    public: JupyterServer,
) -> None:
    alice = Visitor(public)
    kernels = [alice.start_kernel(), alice.start_kernel()]
    # Another cookie jar whose proxy-appended hop is alice's (the left ones are the client's).
    forger = Visitor(public, address=f"203.0.113.9, {alice.address}")
    refused = forger.request("POST", "api/kernels", json={"name": "python3"})
    assert refused.status_code == 429
    assert "you already have 2 running kernels" in refused.json()["message"]
    # A visitor elsewhere is not affected.
    bob = Visitor(public)
    delete(bob, bob.start_kernel())
    for kernel in kernels:
        delete(alice, kernel)


# -- kernel connections -----------------------------------------------------------------------


def iopub_bytes(visitor: Visitor, kernel: str, code: str) -> tuple[int, str]:
    """Run ``code``; the bytes of every iopub message the visitor received until the cell
    ended (whatever their parent), and the text of its own outputs."""

    async def run() -> tuple[int, str]:
        socket = await visitor.connect(kernel)
        msg_id = await execute(socket, code)
        total, texts = 0, []
        replied = idle = False
        deadline = time.monotonic() + 60
        while not (replied and idle):
            raw = await asyncio.wait_for(socket.read_message(), deadline - time.monotonic())
            assert raw is not None, "the server closed the kernel WebSocket"
            msg = json.loads(raw)
            ours = msg["parent_header"].get("msg_id") == msg_id
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "iopub":
                total += len(raw)
                if ours and kind == "stream":
                    texts.append(msg["content"]["text"])
            if ours and kind == "execute_reply":
                replied = True
            if ours and kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
        socket.close()
        return total, "".join(texts)

    return asyncio.run(run())


FLOODS = {
    "comm messages": (
        "import comm\nc = comm.create_comm(target_name='flood')\n"
        "for i in range(100):\n    c.send({'blob': 'y' * 1000})\n"
    ),
    "forged parents": (
        "k = get_ipython().kernel\n"
        "for i in range(100):\n"
        "    k.session.send(k.iopub_socket, 'stream', {'name': 'stdout', 'text': 'z' * 1000},\n"
        "                   parent={'header': {'msg_id': f'forged-{i}'}})\n"
    ),
    "no parent": (
        "k = get_ipython().kernel\n"
        "for i in range(100):\n"
        "    k.session.send(k.iopub_socket, 'stream', {'name': 'stdout', 'text': 'w' * 1000})\n"
    ),
}


@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_the_output_cap_counts_every_iopub_message(public: JupyterServer, flood: str) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    received, text = iopub_bytes(alice, kernel, FLOODS[flood])
    assert 20_000 < received < 26_000  # the kernel sent over 100 kB
    assert "passed this site's limit of 20,000 bytes" in text
    # The next cell, the visitor's own request, has its allowance again.
    assert "after" in text_of(alice.run(kernel, "print('after')"))
    delete(alice, kernel)


def test_kernel_websockets_per_visitor_and_per_address_are_capped(
    public: JupyterServer,
) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    bob = Visitor(public, address=alice.address)  # another cookie jar, the same address
    carol = Visitor(public)
    his, hers = bob.start_kernel(), carol.start_kernel()

    async def attempt(visitor: Visitor, kernel_id: str) -> int:
        try:
            opened = await visitor.connect(kernel_id)
        except HTTPClientError as exc:
            return exc.code
        opened.close()
        return 101

    async def scenario() -> list[int]:
        held = [await alice.connect(kernel) for _ in range(3)]
        codes = [await attempt(alice, kernel), await attempt(bob, his), await attempt(carol, hers)]
        held.pop().close()
        deadline = time.monotonic() + 20
        while await attempt(bob, his) != 101:  # once the server has seen the close
            assert time.monotonic() < deadline, "a closed WebSocket stayed counted"
            await asyncio.sleep(0.2)
        for opened in held:
            opened.close()
        return codes

    assert asyncio.run(scenario()) == [429, 429, 101]
    delete(alice, kernel)
    delete(bob, his)
    delete(carol, hers)


# -- the server's own connections and logs ----------------------------------------------------


SLOW_REQUESTS = {
    "headers": (b"GET /livecells/ HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n"),
    "body": (
        b"POST /api/kernels HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n",
        b"{",
    ),
}


@pytest.mark.parametrize("part", sorted(SLOW_REQUESTS))
def test_a_client_that_sends_a_request_slowly_is_cut_off(tmp_path: Path, part: str) -> None:
    """Slowloris: a few bytes now and then held a connection for an hour (headers) or for
    ever (a body)."""
    (tmp_path / "index.md").write_text(PAGE)
    server = start_livecells_serve(
        tmp_path, "--public", "--LivecellsApp.header_timeout=2", "--LivecellsApp.body_timeout=2"
    )
    start, trickle = SLOW_REQUESTS[part]
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as slow:
            slow.sendall(start)
            deadline = time.monotonic() + 30
            closed = False
            while not closed and time.monotonic() < deadline:
                try:
                    slow.sendall(trickle)
                    closed = slow.recv(1024) == b""
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
            assert closed, f"the server waited on the {part} for 30 s"
    finally:
        server.stop()


def test_visitor_ids_never_reach_the_log(public: JupyterServer) -> None:
    alice = Visitor(public)
    signed = alice.http.cookies["livecells-visitor"]
    length, value = signed.split("|")[4].split(":", 1)
    visitor_id = base64.b64decode(value).decode()
    assert len(visitor_id) == 32 and int(length) == len(value)
    assert alice.request("GET", "api/contents").status_code == 403  # an access-log line
    log = public.log.read_text()
    assert hashlib.sha256(visitor_id.encode()).hexdigest()[:8] in log
    assert visitor_id not in log and visitor_id[:8] not in log


# -- kernels that die, kernels that chatter ---------------------------------------------------


def test_a_kernel_dead_for_good_holds_no_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel whose restarts all fail leaves the map; it must leave the counts too, or a
    few such kernels lock the site (503 for everyone)."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.md").write_text(PAGE)
    # In the served folder, which a sandboxed kernel sees (read-only): its restarts fail once
    # the test has made it.
    flag = root / "broken"
    spec = tmp_path / "data" / "kernels" / "fragile"
    spec.mkdir(parents=True)
    boot = (
        f"import os, sys\nif os.path.exists({str(flag)!r}): sys.exit(3)\n"
        "from ipykernel.kernelapp import launch_new_instance\nlaunch_new_instance()\n"
    )
    argv = [sys.executable, "-c", boot, "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Fragile"}))
    others = os.environ.get("JUPYTER_PATH", "")
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(tmp_path / "data"), others]))
    server = start_livecells_serve(
        root, "--public", "--pool-size=0", "--max-kernels=1", "--trust-forwarded-headers"
    )
    try:
        alice = Visitor(server)
        started = alice.request("POST", "api/kernels", json={"name": "fragile"})
        assert started.status_code == 201, started.text
        kernel = started.json()["id"]
        # Only once it has answered (past its boot's look for the flag) may the flag appear.
        assert text_of(alice.run(kernel, "print(1)", timeout=90)) == "1\n"
        flag.touch()
        # send() returns on the kernel's execute_input, or on its restart when the exit took the
        # execute_input down with it.
        asyncio.run(alice.send(kernel, "import os\nos._exit(1)"))
        deadline = time.monotonic() + 90
        while alice.request("GET", f"api/kernels/{kernel}").status_code != 404:
            assert time.monotonic() < deadline, "the kernel never died for good"
            time.sleep(0.5)
        assert "died for good" in server.log.read_text()
        bob = Visitor(server)
        delete(bob, bob.start_kernel())  # the site's one place is free again
    finally:
        server.stop()


def test_a_kernel_that_prints_on_its_own_is_culled_all_the_same(tmp_path: Path) -> None:
    """Culling goes by what the visitor asks of a kernel, not what the kernel sends."""
    (tmp_path / "index.md").write_text(PAGE)
    server = start_livecells_serve(
        tmp_path,
        "--public",
        "--pool-size=0",
        "--cull-idle-timeout=3",
        "--MappingKernelManager.cull_interval=1",
    )
    try:
        alice = Visitor(server)
        kernel = alice.start_kernel()
        chatter = "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.3)"
        asyncio.run(alice.send(kernel, chatter))
        deadline = time.monotonic() + 60
        while alice.request("GET", f"api/kernels/{kernel}").status_code != 404:
            assert time.monotonic() < deadline, "a chattering kernel was never culled"
            time.sleep(0.5)
        assert f"culled idle kernel {kernel}" in server.log.read_text()
    finally:
        server.stop()
