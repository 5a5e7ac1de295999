"""A kernel WebSocket connection with Nagle's algorithm off.

Stock jupyter_server leaves TCP_NODELAY off on its kernel WebSockets, so each small message
waits for the peer's delayed ACK: a ``1+1`` round trip costs ~48 ms instead of ~9 ms (see
``benchmarks/roundtrip.py``). Select it with
``--ServerApp.kernel_websocket_connection_class=livecells.server.websocket.NoDelayWebsocketConnection``.
"""

from __future__ import annotations

import asyncio

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

__all__ = ["NoDelayGatewayWebsocketConnection", "NoDelayWebsocketConnection"]


class NoDelayWebsocketConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's ZMQ channels connection, with TCP_NODELAY set on the socket."""

    def connect(self) -> asyncio.Future[None] | None:  # type: ignore[override]
        self.websocket_handler.set_nodelay(True)
        result: asyncio.Future[None] | None = super().connect()
        return result


class NoDelayGatewayWebsocketConnection(GatewayWebSocketConnection):
    """jupyter_server's connection to a gateway's kernel, with TCP_NODELAY set on the
    browser's socket (tornado's client sets it on the socket to the gateway)."""

    async def connect(self) -> None:
        self.websocket_handler.set_nodelay(True)
        await super().connect()  # type: ignore[no-untyped-call]
