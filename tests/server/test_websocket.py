"""The NoDelay kernel WebSocket connection really sets TCP_NODELAY on the server's socket."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from jupyter_server.serverapp import ServerApp
from tests.conftest import free_port

import livecells
from livecells.runtimes.server import ServerKernel
from livecells.server.websocket import NoDelayWebsocketConnection


@pytest.fixture
async def server_app(tmp_path: Path) -> AsyncIterator[ServerApp]:
    """An in-process jupyter server on this test's event loop, so we can see its sockets."""
    port = free_port()
    app = ServerApp()
    app.initialize(
        [
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={tmp_path}",
            "--IdentityProvider.token=secret",
            "--ServerApp.kernel_websocket_connection_class="
            "livecells.server.websocket.NoDelayWebsocketConnection",
        ],
        new_httpserver=True,
    )
    yield app
    await app._cleanup()
    app.http_server.stop()


async def test_kernel_websocket_has_nagle_off(server_app: ServerApp) -> None:
    url = f"http://127.0.0.1:{server_app.port}/"
    async with livecells.connect("server", url=url, token="secret") as kernel:
        assert isinstance(kernel, ServerKernel)
        assert (await kernel.execute("1 + 1")).outputs[-1]["data"]["text/plain"] == "2"
        sessions = NoDelayWebsocketConnection._open_sessions
        [handler] = [h for key, h in sessions.items() if kernel.session_id in key]
        server_socket = handler.ws_connection.stream.socket
        assert server_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
