"""The NoDelay kernel WebSocket connections really set TCP_NODELAY on the server's socket, to
local kernels and to a real Kernel Gateway's."""

from __future__ import annotations

import gc
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.serverapp import ServerApp
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from tests.conftest import free_port, kernel_gateway

import livecells
from livecells.runtimes.server import ServerKernel
from livecells.server.websocket import (
    NoDelayGatewayWebsocketConnection,
    NoDelayWebsocketConnection,
)


@asynccontextmanager
async def in_process_server(root: Path, *flags: str) -> AsyncIterator[ServerApp]:
    """An in-process jupyter server on this test's event loop, so we can see its sockets."""
    app = ServerApp()
    app.initialize(
        [
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={free_port()}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={root}",
            "--IdentityProvider.token=secret",
            *flags,
        ],
        new_httpserver=True,
    )
    try:
        yield app
    finally:
        await app._cleanup()
        app.http_server.stop()
        GatewayClient.clear_instance()  # a singleton: the next server here reads its config


@pytest.fixture
async def server_app(tmp_path: Path) -> AsyncIterator[ServerApp]:
    connection = "livecells.server.websocket.NoDelayWebsocketConnection"
    async with in_process_server(
        tmp_path, f"--ServerApp.kernel_websocket_connection_class={connection}"
    ) as app:
        yield app


async def test_kernel_websocket_has_nagle_off(server_app: ServerApp) -> None:
    url = f"http://127.0.0.1:{server_app.port}/"
    async with livecells.connect("server", url=url, token="secret") as kernel:
        assert isinstance(kernel, ServerKernel)
        assert (await kernel.execute("1 + 1")).outputs[-1]["data"]["text/plain"] == "2"
        sessions = NoDelayWebsocketConnection._open_sessions
        [handler] = [h for key, h in sessions.items() if kernel.session_id in key]
        server_socket = handler.ws_connection.stream.socket
        assert server_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.fixture
async def livecells_on_a_gateway(tmp_path: Path) -> AsyncIterator[tuple[ServerApp, str, str]]:
    """An in-process ``livecells serve`` whose kernels run on a real Kernel Gateway."""
    with kernel_gateway(tmp_path) as (gateway_url, gateway_token):
        async with in_process_server(
            tmp_path,
            '--ServerApp.jpserver_extensions={"livecells.server": True}',
            f"--GatewayClient.url={gateway_url}",
            f"--GatewayClient.auth_token={gateway_token}",
        ) as app:
            yield app, gateway_url, gateway_token


async def test_a_gateways_kernel_websocket_has_nagle_off(
    livecells_on_a_gateway: tuple[ServerApp, str, str],
) -> None:
    app, gateway_url, gateway_token = livecells_on_a_gateway
    assert app.web_app.settings["kernel_websocket_connection_class"] is (
        NoDelayGatewayWebsocketConnection
    )
    url = f"http://127.0.0.1:{app.port}/"
    async with livecells.connect("server", url=url, token="secret", protocol="json") as kernel:
        assert isinstance(kernel, ServerKernel)
        assert (await kernel.execute("1 + 1")).outputs[-1]["data"]["text/plain"] == "2"
        auth = {"Authorization": f"token {gateway_token}"}
        on_gateway = httpx.get(f"{gateway_url}api/kernels/{kernel.kernel_id}", headers=auth)
        assert on_gateway.status_code == 200, "the kernel is not the gateway's"
        handlers = [
            item
            for item in gc.get_objects()
            if issubclass(type(item), KernelWebsocketHandler)  # type(): weak proxies too
            and item.ws_connection is not None
            and item.get_argument("session_id", "") == kernel.session_id
        ]
        [handler] = handlers
        server_socket = handler.ws_connection.stream.socket
        assert server_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
