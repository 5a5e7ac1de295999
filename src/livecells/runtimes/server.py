"""Runtime ``server``: a kernel on any Jupyter Server (or Kernel Gateway) over REST + WebSocket.

REST calls carry ``Authorization: token ...``; the kernel WebSocket offers the
``v1.kernel.websocket.jupyter.org`` binary framing and falls back to JSON when the server does
not pick it. One ``session_id`` is kept for the life of the client: when the WebSocket drops we
reconnect with backoff under the same id, so jupyter_server replays the messages it buffered
while we were away and no output is lost. Messages sent while disconnected wait in an outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from livecells.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionFailed,
    KernelNotFound,
    LivecellsError,
    MessageError,
)
from livecells.messages import V1_SUBPROTOCOL, Codec, JSONCodec, Message, codec_for
from livecells.runtimes.base import Kernel, Status

__all__ = ["ServerKernel"]

log = logging.getLogger("livecells")

BACKOFF_START = 0.1
BACKOFF_MAX = 3.0
FENCE_GRACE = 0.2


class ServerKernel(Kernel):
    """A kernel on a Jupyter Server at ``url``.

    ``kernel_id`` attaches to a running kernel instead of starting one. ``shutdown_on_dispose``
    defaults to shutting down only kernels this client started. ``protocol`` is ``"auto"``
    (offer v1, accept JSON), ``"v1"`` or ``"json"``.
    """

    runtime = "server"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        kernel_name: str | None = None,
        kernel_id: str | None = None,
        shutdown_on_dispose: bool | None = None,
        protocol: str = "auto",
        reconnect_timeout: float = 30.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if protocol not in ("auto", "v1", "json"):
            raise ConfigError(f"protocol must be 'auto', 'v1' or 'json', not {protocol!r}")
        self.url = url.rstrip("/") + "/"
        self.token = token
        self.kernel_name = kernel_name
        self.kernel_id = kernel_id
        self.shutdown_on_dispose = shutdown_on_dispose
        self.protocol = protocol
        self.reconnect_timeout = reconnect_timeout
        self.codec: Codec = JSONCodec()
        self._http: httpx.AsyncClient | None = None
        self._ws: ClientConnection | None = None
        self._outbox: list[Message] = []

    # -- REST ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}

    async def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.url, headers=self._headers(), timeout=self.request_timeout
            )
        headers: dict[str, str] = {}
        if method not in ("GET", "HEAD"):
            headers["X-XSRFToken"] = self._xsrf_token()
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise ConnectionFailed(
                f"the Jupyter Server at {self.url} did not answer {method} {path} within "
                f"{self.request_timeout} s; check that it is running and not overloaded"
            ) from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach a Jupyter Server at {self.url} ({exc or type(exc).__name__}); "
                "check the URL and that the server is running (`jupyter server list`)"
            ) from None
        if response.status_code in (401, 403):
            raise AuthenticationFailed(
                f"the Jupyter Server at {self.url} refused the request {method} {path} "
                f"(HTTP {response.status_code}); pass the server's token "
                "(shown by `jupyter server list`) as token=..."
            )
        return response

    def _xsrf_token(self) -> str:
        """Double-submit XSRF token: the server's ``_xsrf`` cookie, echoed in a header.

        Token-authenticated requests are exempt on jupyter_server; without a token the server
        requires the header to match the cookie, so we send the cookie it set, or one of ours.
        """
        assert self._http is not None
        token = self._http.cookies.get("_xsrf")
        if token is None:
            token = secrets.token_hex(16)
            self._http.cookies.set("_xsrf", token, domain=urlsplit(self.url).hostname or "")
        return token

    async def kernelspecs(self) -> dict[str, Any]:
        """The server's ``/api/kernelspecs`` document (also checks URL and token)."""
        response = await self._api("GET", "api/kernelspecs")
        if response.status_code != 200:
            raise ConnectionFailed(
                f"{self.url} answered HTTP {response.status_code} for api/kernelspecs; "
                "is this the base URL of a Jupyter Server?"
            )
        try:
            specs: dict[str, Any] = response.json()
        except ValueError:
            raise ConnectionFailed(
                f"{self.url} did not answer with JSON; is this the base URL of a Jupyter Server?"
            ) from None
        return specs

    # -- Kernel contract ----------------------------------------------------------------------

    async def _start(self) -> None:
        if self.kernel_id:
            response = await self._api("GET", f"api/kernels/{quote(self.kernel_id)}")
            if response.status_code == 404:
                raise KernelNotFound(
                    f"no kernel with id {self.kernel_id} on {self.url}; "
                    "list the running ones at api/kernels, or omit kernel_id to start one"
                )
            response.raise_for_status()
            if self.shutdown_on_dispose is None:
                self.shutdown_on_dispose = False
        else:
            specs = await self.kernelspecs()
            available = specs.get("kernelspecs", {})
            name = self.kernel_name or specs.get("default")
            if name not in available:
                raise KernelNotFound(
                    f"the Jupyter Server at {self.url} has no kernel named {name!r} "
                    f"(available: {', '.join(sorted(available)) or 'none'})"
                )
            self._set_status(Status.STARTING, f"starting kernel {name}")
            response = await self._api("POST", "api/kernels", json={"name": name})
            if response.status_code >= 400:
                raise ConnectionFailed(
                    f"the Jupyter Server at {self.url} could not start kernel {name!r} "
                    f"(HTTP {response.status_code}: {_reason(response)})"
                )
            self.kernel_id = str(response.json()["id"])
            if self.shutdown_on_dispose is None:
                self.shutdown_on_dispose = True
        await self._open_websocket()
        self._spawn(self._read_forever())

    def _ws_url(self) -> str:
        scheme, netloc, path, _, _ = urlsplit(self.url)
        ws_scheme = "wss" if scheme == "https" else "ws"
        channels = f"{path}api/kernels/{quote(str(self.kernel_id))}/channels"
        return urlunsplit((ws_scheme, netloc, channels, f"session_id={self.session_id}", ""))

    async def _open_websocket(self) -> None:
        subprotocols = None if self.protocol == "json" else [V1_SUBPROTOCOL]
        # jupyter_server holds the handshake until the kernel answers kernel_info: for a new
        # kernel, that is its start, which may take longer than a request.
        opening = max(self.request_timeout, self.startup_timeout)
        try:
            ws = await connect(
                self._ws_url(),
                additional_headers=self._headers(),
                subprotocols=subprotocols,  # type: ignore[arg-type]
                compression=None,
                max_size=None,
                open_timeout=opening,
                ping_interval=20,
                ping_timeout=20,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthenticationFailed(
                    f"the Jupyter Server at {self.url} refused the kernel WebSocket "
                    f"(HTTP {status}); check the token"
                ) from None
            if status == 404:
                raise KernelNotFound(f"kernel {self.kernel_id} is gone from {self.url}") from None
            raise ConnectionFailed(f"kernel WebSocket refused with HTTP {status}") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise ConnectionFailed(
                f"cannot open the kernel WebSocket at {self.url} ({exc or type(exc).__name__})"
            ) from None
        self.codec = codec_for(ws.subprotocol)
        if self.protocol == "v1" and ws.subprotocol != V1_SUBPROTOCOL:
            await ws.close()
            raise ConnectionFailed(f"the server at {self.url} does not speak {V1_SUBPROTOCOL}")
        self._ws = ws
        outbox, self._outbox = self._outbox, []
        for msg in outbox:
            await self._send(msg)

    async def _read_forever(self) -> None:
        while not self._closed:
            ws = self._ws
            if ws is None:
                return
            try:
                async for frame in ws:
                    try:
                        msg = self.codec.decode(frame)
                    except MessageError as exc:
                        log.warning("ignoring a malformed frame from %s: %s", self.url, exc)
                        continue
                    self._dispatch(msg)
            except ConnectionClosed:
                pass
            if self._closed:
                return
            self._ws = None
            if not await self._reconnect():
                return

    async def _reconnect(self) -> bool:
        self._set_status(Status.DISCONNECTED, f"connection to {self.url} lost; reconnecting")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reconnect_timeout
        delay = BACKOFF_START
        last_error: Exception | None = None
        while not self._closed and loop.time() < deadline:
            try:
                response = await self._api("GET", f"api/kernels/{quote(str(self.kernel_id))}")
                if response.status_code == 404:
                    self._kernel_died(f"kernel {self.kernel_id} is no longer on {self.url}")
                    return False
                await self._open_websocket()
            except LivecellsError as exc:
                last_error = exc
                await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            busy = any(not e.done.done() for e in self._executions.values())
            self._set_status(Status.BUSY if busy else Status.IDLE, "reconnected")
            self._spawn(self._resend_lost())
            return True
        if not self._closed:
            self._connection_lost(
                f"lost the connection to {self.url} and could not reconnect within "
                f"{self.reconnect_timeout:.0f} s ({last_error})"
            )
        return False

    async def _resend_lost(self) -> None:
        """Re-send an execute_request the dropped connection swallowed.

        A request written just before a drop can vanish with the socket. The server replays
        what it buffered as soon as we reconnect, so after a control-channel round trip (a
        fence behind that replay) the oldest pending request that still has no reply, output
        or status at all never reached the kernel: the kernel always starts the oldest
        request it holds. Only that one is re-sent; later ones wait behind it as before.
        """
        try:
            await self.request("kernel_info_request", channel="control", timeout=5)
        except LivecellsError:
            return
        await asyncio.sleep(FENCE_GRACE)
        oldest = next(iter(self._executions.values()), None)
        if oldest is not None and not oldest.seen and not oldest.done.done():
            log.info("re-sending %s lost with the connection", oldest.msg.msg_id)
            await self._send(oldest.msg)

    async def _send(self, msg: Message) -> None:
        ws = self._ws
        if ws is None:
            self._outbox.append(msg)
            return
        try:
            await ws.send(self.codec.encode(msg))
        except ConnectionClosed:
            self._outbox.append(msg)

    async def _interrupt(self) -> None:
        response = await self._api("POST", f"api/kernels/{quote(str(self.kernel_id))}/interrupt")
        if response.status_code >= 400:
            raise ConnectionFailed(f"interrupt failed: HTTP {response.status_code}")

    async def _restart(self) -> None:
        response = await self._api("POST", f"api/kernels/{quote(str(self.kernel_id))}/restart")
        if response.status_code >= 400:
            raise ConnectionFailed(
                f"restart failed: HTTP {response.status_code} ({_reason(response)})"
            )

    async def _shutdown(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self.shutdown_on_dispose and self.kernel_id and self._http is not None:
            with contextlib.suppress(LivecellsError):
                await self._api("DELETE", f"api/kernels/{quote(self.kernel_id)}")
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    return str(body.get("message") or body.get("reason") or response.reason_phrase)
