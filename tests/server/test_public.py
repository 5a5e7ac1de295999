"""``livecells serve --public``: anonymous visitors, each on kernels of their own, with limits.

Every test runs a real ``livecells serve --public`` on 127.0.0.1 and speaks to it as browsers
do (cookie jar, _xsrf header, Origin), with real ipykernels behind it; one runs the kernels on
a real Jupyter Kernel Gateway."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import (
    JupyterServer,
    kernel_gateway,
    livecells_cli,
    page_config_of,
    start_livecells_serve,
)
from tests.tcpproxy import tcp_proxy
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

PAGE = "```{code-cell} python\nprint('hello')\n```\n"


async def execute(socket: Any, code: str) -> str:
    """Send an execute_request over a kernel WebSocket (JSON framing); returns its msg_id."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex}
    header |= {"username": "", "version": "5.3", "date": ""}
    request = {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell"}
    request["content"] = {"code": code, "silent": False, "allow_stdin": False}
    await socket.write_message(json.dumps(request))
    return msg_id


class Visitor:
    """One browser: its own cookie jar (the visitor cookie and _xsrf from the first page), and
    its own address (an X-Forwarded-For, which servers started by ``serve_public`` trust, as
    behind a reverse proxy; the limits bind addresses too)."""

    def __init__(
        self, server: JupyterServer, origin: str | None = None, address: str | None = None
    ) -> None:
        self.server = server
        self.origin = origin or server.url.rstrip("/")
        self.address = address or f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.7"
        self.http = httpx.Client(
            base_url=server.url, timeout=30, headers={"X-Forwarded-For": self.address}
        )
        page = self.http.get("livecells/")
        assert page.status_code == 200, page.text[:300]
        self.page = page
        for cookie in self.http.cookies.jar:
            cookie.secure = False  # sent over http://127.0.0.1 too, as browsers do

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-XSRFToken": self.http.cookies.get("_xsrf", ""), "Origin": self.origin}
        headers.update(kwargs.pop("headers", {}))
        return self.http.request(method, path, headers=headers, **kwargs)

    def start_kernel(self) -> str:
        response = self.request("POST", "api/kernels", json={"name": "python3"})
        assert response.status_code == 201, response.text
        kernel_id: str = response.json()["id"]
        return kernel_id

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    def run(self, kernel_id: str, code: str, timeout: float = 30) -> list[dict[str, Any]]:
        return asyncio.run(self._run(kernel_id, code, timeout))

    async def _run(self, kernel_id: str, code: str, timeout: float) -> list[dict[str, Any]]:
        socket = await self.connect(kernel_id)
        msg_id = await execute(socket, code)
        outputs: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        replied = idle = False
        while not (replied and idle):
            raw = await asyncio.wait_for(socket.read_message(), deadline - time.monotonic())
            assert raw is not None, "the server closed the kernel WebSocket"
            msg = json.loads(raw)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                replied = True
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind != "execute_input":
                outputs.append(msg)
        socket.close()
        return outputs

    async def send(self, kernel_id: str, code: str, timeout: float = 30) -> None:
        """Start code running and leave once the kernel has taken it (it goes on), or has died
        of it: code that ends its kernel can end it before the kernel's execute_input leaves
        (ZeroMQ sends from a thread of its own, which the exit takes down with the rest)."""
        socket = await self.connect(kernel_id)
        msg_id = await execute(socket, code)
        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(socket.read_message(), deadline - time.monotonic())
            assert raw is not None, "the server closed the kernel WebSocket"
            msg = json.loads(raw)
            kind = msg["header"]["msg_type"]
            if msg["parent_header"].get("msg_id") == msg_id and kind == "execute_input":
                break
            if kind == "status" and msg["content"]["execution_state"] in ("restarting", "dead"):
                break
        socket.close()

    def hold(self, kernel_id: str) -> None:
        """Keep a WebSocket to the kernel open (in a thread) until the server closes it, as a
        tab left open does; returns once it is open."""
        opened = threading.Event()

        async def hold() -> None:
            socket = await self.connect(kernel_id)
            opened.set()
            while await socket.read_message() is not None:
                pass

        thread = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
        thread.start()
        assert opened.wait(30), "the kernel WebSocket did not open"

    async def connect(
        self, kernel_id: str, origin: str | None = None, via: str | None = None
    ) -> Any:
        url = (via or self.server.url).replace("http", "ws", 1)
        request = HTTPRequest(
            f"{url}api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
            headers={
                "Cookie": self.cookie_header,
                "Origin": origin or self.origin,
                "X-Forwarded-For": self.address,
            },
        )
        return await websocket_connect(request)

    def websocket_status(self, kernel_id: str, origin: str | None = None) -> int:
        async def attempt() -> int:
            try:
                socket = await self.connect(kernel_id, origin)
            except HTTPClientError as exc:
                return exc.code
            socket.close()
            return 101

        return asyncio.run(attempt())


def text_of(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for msg in outputs:
        content = msg["content"]
        parts.append(content.get("text") or json.dumps(content.get("data", {})))
        if msg["header"]["msg_type"] == "error":
            parts.append(f"{content['ename']}: {content['evalue']}")
    return "".join(parts)


def serve_public(
    tmp_path_factory: pytest.TempPathFactory, *flags: str, base_url: str = ""
) -> JupyterServer:
    root = tmp_path_factory.mktemp("public")
    (root / "index.md").write_text(PAGE)
    if "--trust-forwarded-headers" not in flags:
        flags += ("--trust-forwarded-headers",)  # each Visitor's own address
    return start_livecells_serve(root, "--public", *flags, base_url=base_url)


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = serve_public(
        tmp_path_factory,
        "--pool-size=1",
        "--max-kernels-per-visitor=2",
        "--kernel-starts-per-minute=4",
        "--max-output-bytes=20000",
        "--kernel-memory=2048",
    )
    yield server
    server.stop()


# -- identity and isolation -------------------------------------------------------------------


def test_a_visitor_gets_a_signed_httponly_cookie_and_no_page_or_script_has_a_token(
    public: JupyterServer,
) -> None:
    visitor = Visitor(public)
    cookie = visitor.page.headers["set-cookie"]
    assert "livecells-visitor=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    settings = page_config_of(visitor.page.text)
    assert settings["openInJupyter"] is None and settings["server"] is None
    assert settings["runtimes"] == ["livecells", "pyodide"]
    for path in ("livecells/", "livecells/_livecells/livecells.js", "livecells/index.html"):
        body = visitor.http.get(path).text
        assert public.token not in body, f"{path} carries the server's token"
    assert "Content-Security-Policy" in visitor.page.text
    assert visitor.page.headers["x-content-type-options"] == "nosniff"


def test_each_visitor_runs_on_their_own_kernel_and_cannot_touch_anothers(
    public: JupyterServer,
) -> None:
    alice, bob = Visitor(public), Visitor(public)
    kernel = alice.start_kernel()
    assert "42" in text_of(alice.run(kernel, "secret = 42\nprint(secret)"))
    for method, path in [
        ("GET", f"api/kernels/{kernel}"),
        ("POST", f"api/kernels/{kernel}/interrupt"),
        ("POST", f"api/kernels/{kernel}/restart"),
        ("DELETE", f"api/kernels/{kernel}"),
    ]:
        assert bob.request(method, path).status_code == 403, (method, path)
    assert bob.websocket_status(kernel) == 403
    # Bob's own kernel is a different Python.
    his = bob.start_kernel()
    assert "NameError" in text_of(bob.run(his, "print(secret)"))
    assert "42" in text_of(alice.run(kernel, "print(secret)"))
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
    assert bob.request("DELETE", f"api/kernels/{his}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "api/contents", 403),
        ("GET", "api/contents/index.md", 403),
        ("PUT", "api/contents/evil.py", 403),
        ("GET", "metrics", 404),
        ("GET", "api/terminals", 404),  # not loaded: serve loads no other extension
        ("POST", "api/terminals", 404),
        ("GET", "files/index.md", 403),
        ("GET", "view/index.md", 403),
        ("GET", "nbconvert/html/index.md", 403),
        ("GET", "api/nbconvert", 403),
        ("GET", "api/config/notebook", 403),
        ("GET", "api/status", 403),
        ("GET", "api/events/subscribe", 403),
        ("POST", "api/shutdown", 403),
        ("PUT", "api/kernelspecs/python3", 405),
    ],
)
def test_everything_but_the_kernel_service_is_forbidden(
    public: JupyterServer, method: str, path: str, status: int
) -> None:
    response = Visitor(public).request(method, path, json={})
    assert response.status_code == status, (method, path, response.text[:200])


def test_api_me_tells_a_visitor_only_who_they_are(public: JupyterServer) -> None:
    """jupyter_server's identity endpoint: the visitor's own anonymous identity, and no
    permission granted by it (none is asked for)."""
    alice = Visitor(public)
    me = alice.request("GET", "api/me").json()
    assert me["identity"]["username"].startswith("visitor-")
    assert me["identity"]["name"] == "Visitor"
    assert me["permissions"] == {"updatable_fields": ["color"]}  # jupyter_server's default
    asked = alice.request("GET", "api/me?permissions=" + json.dumps({"contents": ["read"]}))
    assert asked.json()["permissions"]["contents"] == []


def test_kernelspecs_may_be_read(public: JupyterServer) -> None:
    assert "python3" in Visitor(public).request("GET", "api/kernelspecs").json()["kernelspecs"]


def test_a_forged_or_tampered_cookie_is_a_stranger(public: JupyterServer) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    forger = Visitor(public)
    value = alice.http.cookies["livecells-visitor"]
    forged = value[:-4] + ("0000" if not value.endswith("0000") else "1111")
    for cookie in (forged, "2|1:0|10:1|17:livecells-visitor|44:" + "A" * 44 + "|00", "plain"):
        forger.http.cookies.set("livecells-visitor", cookie)
        response = forger.request("GET", f"api/kernels/{kernel}")
        assert response.status_code == 403, cookie
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_requests_from_another_origin_are_refused_on_rest_and_websocket(
    public: JupyterServer,
) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    evil = "http://evil.example"
    response = alice.request("POST", "api/kernels", json={}, headers={"Origin": evil})
    assert response.status_code in (403, 404)
    assert alice.websocket_status(kernel, origin=evil) in (403, 404)
    assert alice.websocket_status(kernel) == 101
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_a_visitor_cannot_choose_a_kernel_id(public: JupyterServer) -> None:
    alice = Visitor(public)
    response = alice.request("POST", "api/kernels", json={"name": "python3", "kernel_id": "x"})
    assert response.status_code == 403


def test_a_post_without_the_xsrf_token_is_refused(public: JupyterServer) -> None:
    """A page of another site can make the visitor's browser POST with the visitor's cookie,
    but cannot read the _xsrf cookie to send it back as a header."""
    alice = Visitor(public)
    for token in ("", "not-the-token"):
        response = alice.request("POST", "api/kernels", json={}, headers={"X-XSRFToken": token})
        assert response.status_code == 403, token
        assert "xsrf" in response.text.lower()
    kernels = alice.request("POST", "api/kernels", json={"name": "python3"})
    assert kernels.status_code == 201  # with it, the same request starts a kernel
    assert alice.request("DELETE", f"api/kernels/{kernels.json()['id']}").status_code == 204


# -- limits -----------------------------------------------------------------------------------


def test_the_kernels_per_visitor_limit_says_what_to_do(public: JupyterServer) -> None:
    alice = Visitor(public)
    kernels = [alice.start_kernel(), alice.start_kernel()]
    third = alice.request("POST", "api/kernels", json={"name": "python3"})
    assert third.status_code == 429
    assert "you already have 2 running kernels" in third.json()["message"]
    assert "hit the per-visitor kernel limit (2)" in public.log.read_text()
    # Another visitor is not affected.
    bob = Visitor(public)
    kernels.append(bob.start_kernel())
    for kernel, who in zip(kernels, (alice, alice, bob), strict=True):
        assert who.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_starts_sent_in_parallel_cannot_slip_past_the_limit(public: JupyterServer) -> None:
    alice = Visitor(public)
    headers = {"X-XSRFToken": alice.http.cookies.get("_xsrf", ""), "Origin": alice.origin}
    headers["X-Forwarded-For"] = alice.address

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=public.url, cookies=alice.http.cookies, timeout=60
        ) as client:
            starts = [
                client.post("api/kernels", json={"name": "python3"}, headers=headers)
                for _ in range(4)
            ]
            return list(await asyncio.gather(*starts))

    responses = asyncio.run(burst())
    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 201, 429, 429]
    for response in responses:
        if response.status_code == 201:
            kernel = response.json()["id"]
            assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_kernel_starts_per_minute_are_limited(public: JupyterServer) -> None:
    alice = Visitor(public)
    for _ in range(4):
        kernel = alice.start_kernel()
        assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
    fifth = alice.request("POST", "api/kernels", json={"name": "python3"})
    assert fifth.status_code == 429
    assert "too many kernel starts (4 a minute)" in fifth.json()["message"]


def test_one_cells_output_is_capped_and_the_reader_is_told(public: JupyterServer) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    outputs = alice.run(kernel, "for i in range(100):\n    print('x' * 1000)")
    text = text_of(outputs)
    assert "passed this site's limit of 20,000 bytes" in text
    assert text.count("x") < 25_000
    # The next cell has its own allowance.
    assert "done" in text_of(alice.run(kernel, "print('done')"))
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_a_kernel_past_its_memory_limit_gets_a_memory_error(public: JupyterServer) -> None:
    alice = Visitor(public)
    kernel = alice.start_kernel()
    text = text_of(alice.run(kernel, "block = bytearray(3 * 1024 ** 3)"))
    assert "MemoryError" in text
    assert "ok" in text_of(alice.run(kernel, "print('ok')")), "the kernel survives"
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def look_for_connection_files(*kernels: str) -> str:
    """Code that waits up to 10 s for the kernels' connection files to go, then prints those
    still there."""
    return (
        "import glob, time\nfrom jupyter_core.paths import jupyter_runtime_dir\n"
        "for _ in range(100):\n"
        "    found = [path for path in glob.glob(jupyter_runtime_dir() + '/kernel-*.json')\n"
        f"             if any(kernel in path for kernel in {list(kernels)!r})]\n"
        "    if not found: break\n"
        "    time.sleep(0.1)\n"
        "print('connection files:', found)"
    )


OWN_CONNECTION_FILE_GONE = (
    "import os, time\nfrom ipykernel.kernelapp import IPKernelApp\n"
    "path = IPKernelApp.instance().abs_connection_file\n"
    "for _ in range(100):\n"
    "    if not os.path.exists(path): break\n"
    "    time.sleep(0.1)\n"
    "print('own connection file kept:', os.path.exists(path))"
)
"""Code that waits up to 10 s for the kernel's own connection file to go (where the server
wrote it, which the kernel sees, sandbox or not), then says whether it is still there."""


def test_a_kernel_cannot_find_other_kernels_connection_files(public: JupyterServer) -> None:
    alice, bob = Visitor(public), Visitor(public)
    hers, his = alice.start_kernel(), bob.start_kernel()
    look = look_for_connection_files(hers, his)
    assert "connection files: []" in text_of(bob.run(his, look))
    gone = "own connection file kept: False\n"
    assert text_of(alice.run(hers, OWN_CONNECTION_FILE_GONE)) == gone
    # A restart writes the file again for the new process, then hides it again.
    assert alice.request("POST", f"api/kernels/{hers}/restart").status_code == 200
    assert text_of(alice.run(hers, OWN_CONNECTION_FILE_GONE)) == gone
    for who, kernel in ((alice, hers), (bob, his)):
        assert who.request("DELETE", f"api/kernels/{kernel}").status_code == 204


SHELL_ONLY_KERNEL = """\
from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp


class ShellOnly(IPythonKernel):
    \"\"\"ipykernel, but kernel_info is answered on shell only, as kernels without a control
    handler for it do.\"\"\"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        del self.control_handlers["kernel_info_request"]


IPKernelApp.launch_instance(kernel_class=ShellOnly)
"""


def test_a_kernel_answering_only_on_shell_has_its_connection_file_hidden_too(
    public: JupyterServer, kernelspecs: Path
) -> None:
    spec = kernelspecs / "kernels" / "shell-only"
    spec.mkdir(parents=True, exist_ok=True)
    # In the served folder: the one place of the test's files a sandboxed kernel sees.
    script = public.root / "shell_only_kernel.py"
    script.write_text(SHELL_ONLY_KERNEL)
    argv = [sys.executable, str(script), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "shell only"}))
    alice = Visitor(public)
    response = alice.request("POST", "api/kernels", json={"name": "shell-only"})
    assert response.status_code == 201, response.text
    kernel = response.json()["id"]
    asked = "print('kernel_info_request' in get_ipython().kernel.control_handlers)"
    assert text_of(alice.run(kernel, asked)) == "False\n"
    # Gone within 10 s, not the 60 s a kernel that never answers on control keeps it.
    assert (
        text_of(alice.run(kernel, OWN_CONNECTION_FILE_GONE)) == "own connection file kept: False\n"
    )
    assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204


async def test_the_connection_file_is_hidden_while_another_client_of_the_manager_is_connected(
    tmp_path: Path,
) -> None:
    """A client of the manager's own session (``km.client()``, as jupyter_client's
    wait_for_ready uses) already connected when the server's hiding client connects: both are
    answered. Sharing the session's ZMQ identity, the second peer was dropped by the kernel's
    ROUTER: the file stayed, or (the other way round) the first client waited for ever."""
    from livecells.server.public import LimitedKernelManager

    class Held(LimitedKernelManager):
        """Hides its connection file only once the test says so."""

        go = asyncio.Event()

        async def _hide_connection_file(self) -> None:
            await self.go.wait()
            await super()._hide_connection_file()

    manager = Held(connection_file=str(tmp_path / "kernel-held.json"), memory_limit=0, cpu_limit=0)
    await manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        kept = functools.partial(os.path.exists, manager.connection_file)
        assert kept()
        Held.go.set()
        await asyncio.wait_for(manager._hiding, timeout=15)  # it tries for 60 s when unanswered
        assert not kept()
        reply = await client.kernel_info(reply=True, timeout=10)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def test_the_site_wide_limit_and_idle_culling(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = serve_public(
        tmp_path_factory,
        "--pool-size=0",
        "--max-kernels=2",
        "--cull-idle-timeout=2",
        "--MappingKernelManager.cull_interval=1",
    )
    try:
        visitors = [Visitor(server) for _ in range(3)]
        first, second = visitors[0].start_kernel(), visitors[1].start_kernel()
        # The first kernel is kept busy, silently: that holds it no longer than idleness would.
        asyncio.run(visitors[0].send(first, "import time\nwhile True: time.sleep(0.2)"))
        refused = visitors[2].request("POST", "api/kernels", json={"name": "python3"})
        assert refused.status_code == 503
        assert "as many kernels as it may (2)" in refused.json()["message"]
        # The second kernel's reader stays connected (a tab left open): culled all the same.
        visitors[1].hold(second)
        connections = visitors[1].request("GET", f"api/kernels/{second}").json()["connections"]
        assert connections == 1
        # Idle kernels are culled, and their visitor learns they are gone (404).
        # Until then, each is its owner's (200, never 403), even while it is being shut down.
        deadline = time.monotonic() + 20
        statuses: list[int] = []
        while time.monotonic() < deadline:
            statuses = [
                visitor.request("GET", f"api/kernels/{kernel}").status_code
                for visitor, kernel in ((visitors[0], first), (visitors[1], second))
            ]
            assert set(statuses) <= {200, 404}, statuses
            if statuses == [404, 404]:
                break
            time.sleep(0.2)
        assert statuses == [404, 404]
        assert server.log.read_text().count("culled idle kernel") == 2
        visitors[2].start_kernel()  # room again
    finally:
        server.stop()


def test_a_connection_that_goes_silent_is_closed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A reader whose network vanished (no close, no RST: a suspended laptop) stops answering
    the server's pings; the server closes that WebSocket and says so in its log."""
    server = serve_public(tmp_path_factory, "--pool-size=0", "--connection-timeout=2")
    try:
        with tcp_proxy(server.port) as relay:
            alice = Visitor(server)
            kernel = alice.start_kernel()

            async def connect_then_go_silent() -> int:
                socket = await alice.connect(kernel, relay.url.rstrip("/"), via=relay.url)
                connections = alice.request("GET", f"api/kernels/{kernel}").json()["connections"]
                relay.hold()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    model = alice.request("GET", f"api/kernels/{kernel}").json()
                    if model["connections"] == 0:
                        break
                    await asyncio.sleep(0.5)
                socket.close()
                return int(connections)

            assert asyncio.run(connect_then_go_silent()) == 1
            assert alice.request("GET", f"api/kernels/{kernel}").json()["connections"] == 0
        assert "WebSocket ping timeout" in server.log.read_text()
        # The kernel itself lives on for the reader's return.
        assert "back" in text_of(alice.run(kernel, "print('back')"))
    finally:
        server.stop()


def test_the_pool_hands_a_started_kernel_to_one_visitor_only(public: JupyterServer) -> None:
    alice, bob = Visitor(public), Visitor(public)
    deadline = time.monotonic() + 30
    while "from the pool" not in public.log.read_text() and time.monotonic() < deadline:
        kernel = alice.start_kernel()
        alice.request("DELETE", f"api/kernels/{kernel}")
        if "from the pool" in public.log.read_text():
            break
        time.sleep(1)
    handed = re.findall(r"kernel (\S+) \(python3\) for (\w+) from the pool", public.log.read_text())
    assert handed, "no kernel came from the pool"
    kernel = bob.start_kernel()
    assert kernel not in [kernel_id for kernel_id, _ in handed]
    assert bob.request("DELETE", f"api/kernels/{kernel}").status_code == 204


def test_behind_a_reverse_proxy_under_a_path_with_forwarded_headers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = serve_public(
        tmp_path_factory, "--base-url=/live/", "--trust-forwarded-headers", base_url="live/"
    )
    try:
        alice = Visitor(server)
        assert page_config_of(alice.page.text)["baseUrl"] == "/live/"
        assert "Path=/live/" in alice.page.headers["set-cookie"]
        kernel = alice.start_kernel()
        assert "2" in text_of(alice.run(kernel, "print(1 + 1)"))
        # The proxy terminates TLS: the visitor cookie is then Secure.
        https = httpx.get(f"{server.url}livecells/", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in https.headers["set-cookie"]
        assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
    finally:
        server.stop()


def test_the_cli_refuses_limits_without_public(tmp_path: Path) -> None:
    result = livecells_cli("serve", str(tmp_path), "--max-kernels=3")
    assert result.returncode == 2
    assert "--max-kernels only apply with --public" in result.stderr


@pytest.mark.parametrize("value", ["-1", "many"])
def test_the_cli_refuses_a_limit_that_is_not_a_count(tmp_path: Path, value: str) -> None:
    result = livecells_cli("serve", str(tmp_path), "--public", f"--connection-timeout={value}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "livecells serve: error: argument --connection-timeout: "
        f"expected a whole number, 0 or more, got '{value}'"
    )


# -- scale-out ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    listing = "--JupyterWebsocketPersonality.list_kernels=True"
    with kernel_gateway(tmp_path_factory.mktemp("public-gateway"), listing) as running:
        yield running


def gateway_kernels(url: str, token: str, timeout: float = 60) -> list[str]:
    """The ids of the gateway's kernels. Kernel Gateway answers a listing with 500 while one of
    the kernels it is starting (the server's warm pool fills in the background) has no
    ``last_activity`` yet: asked again until it answers, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        listed = httpx.get(f"{url}api/kernels", headers={"Authorization": f"token {token}"})
        if listed.status_code == 200:
            return [item["id"] for item in listed.json()]
        assert listed.status_code == 500 and "last_activity" in listed.text, listed.text
        assert time.monotonic() < deadline, f"the gateway's listing still fails: {listed.text}"
        time.sleep(0.1)


def test_a_gateway_runs_the_kernels_and_visitors_stay_isolated(
    tmp_path_factory: pytest.TempPathFactory, gateway: tuple[str, str]
) -> None:
    url, token = gateway
    server = serve_public(
        tmp_path_factory, f"--gateway-url={url}", f"--GatewayClient.auth_token={token}"
    )
    try:
        alice, bob = Visitor(server), Visitor(server)
        kernel = alice.start_kernel()
        assert kernel in gateway_kernels(url, token)
        assert "2" in text_of(alice.run(kernel, "print(1 + 1)"))
        assert bob.request("GET", f"api/kernels/{kernel}").status_code == 403
        assert bob.websocket_status(kernel) == 403
        assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
        log = server.log.read_text()
        assert "kernels run on the gateway: its containers are the sandbox (no bwrap here)" in log
    finally:
        server.stop()


def test_a_gateways_kernels_are_held_to_the_output_cap(
    tmp_path_factory: pytest.TempPathFactory, gateway: tuple[str, str]
) -> None:
    url, token = gateway
    server = serve_public(
        tmp_path_factory,
        f"--gateway-url={url}",
        f"--GatewayClient.auth_token={token}",
        "--max-output-bytes=20000",
    )
    try:
        alice = Visitor(server)
        kernel = alice.start_kernel()
        outputs = alice.run(kernel, "for i in range(100):\n    print('x' * 1000, flush=True)")
        notes = [m for m in outputs if "passed this site's limit" in m["content"].get("text", "")]
        assert [m["content"]["text"] for m in notes] == [
            "\n[livecells] this cell's output passed this site's limit of 20,000 bytes: "
            "the rest is not shown.\n"
        ]
        assert notes[0]["content"]["name"] == "stderr"
        # Whole messages pass until the one that crosses 20,000 bytes (headers count too).
        shown = text_of(outputs).count("x")
        assert shown % 1000 == 0 and 5_000 <= shown < 20_000, shown
        # The next cell has its own allowance.
        assert text_of(alice.run(kernel, "print('done')")) == "done\n"
        assert "passed 20000 output bytes" in server.log.read_text()
        assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
    finally:
        server.stop()


@pytest.mark.parametrize(("depth", "transport"), [(1, "ipc"), (12, "tcp")])
def test_local_kernels_use_unix_sockets_where_their_paths_fit(depth: int, transport: str) -> None:
    from livecells.server.public import LimitedKernelManager

    runtime = Path("/run/user").joinpath(*["runtime"] * depth)  # only named, never created
    manager = LimitedKernelManager(connection_file=str(runtime / f"kernel-{uuid.uuid4()}.json"))
    assert manager.transport == transport
    if transport == "ipc":  # beside the connection file, never in the kernel's working folder
        assert manager.ip.startswith(str(runtime))
