"""``livecells serve --public``: a live site anyone may open, each visitor on kernels of their own.

jupyter_server's own seams do the work, so its handlers, kernel protocol and gateway support
stay as they are:

- :class:`VisitorIdentityProvider`: every visitor is anonymous and known by a signed cookie
  (tornado's secure cookie, keyed by the server's cookie secret); there is no token to hand out,
  so none reaches a page. A forged or tampered cookie is no one: it gets a new identity.
- :class:`VisitorAuthorizer`: only what live pages use is allowed: starting a kernel, and
  reading, interrupting, restarting, deleting and connecting to one's *own* kernels (someone
  else's: 403), and reading kernelspecs. Contents, files, terminals, sessions, kernel lists,
  kernelspec writes, config and everything else: 403.
- :class:`VisitorKernels`, mixed into jupyter_server's kernel manager (local kernels) or its
  gateway kernel manager (``--gateway-url``: Jupyter Enterprise Gateway or Kernel Gateway):
  records who owns which kernel and holds the limits (kernels per visitor and in total, kernel
  starts per visitor per minute), and keeps a pool of started kernels so a visitor's first cell
  does not wait for a kernel start. A pooled kernel goes to one visitor and is never reused.
- :class:`LimitedKernelManager`: each local kernel runs under rlimits (address space, CPU
  seconds) set by :mod:`livecells.server.limits` before it execs the kernel, and its connection
  file (the message-signing key) is deleted once the kernel has read it.
- :class:`PublicWebsocketConnection` (local kernels) and :class:`PublicGatewayWebsocketConnection`
  (a gateway's) cap the output bytes of one execution (:class:`OutputCap`); past it the
  reader gets one line saying so and the rest is dropped.

Culling is jupyter_server's (``cull_idle_timeout``, ``cull_connected``), with safe defaults set
by the command. Every refusal gives the reader a message that says what to do and the operator
a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import time
from collections import deque
from contextvars import ContextVar
from queue import Empty
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.gateway.managers import GatewayMappingKernelManager
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from tornado import web
from traitlets import Int, default
from traitlets.config import LoggingConfigurable

from livecells.server import limits as limits_script
from livecells.server.websocket import (
    NoDelayGatewayWebsocketConnection,
    NoDelayWebsocketConnection,
)

__all__ = [
    "LimitedKernelManager",
    "OutputCap",
    "PublicGatewayKernelManager",
    "PublicGatewayWebsocketConnection",
    "PublicKernelManager",
    "PublicWebsocketConnection",
    "VisitorAuthorizer",
    "VisitorIdentityProvider",
    "VisitorKernels",
]

_SUN_PATH_MAX = 104  # bytes in a Unix socket address, the final NUL included (macOS; Linux: 108)

OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error", "update_display_data")
VISITOR_COOKIE = "livecells-visitor"
VISITOR_DAYS = 1
_VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")
_starting_for: ContextVar[str | None] = ContextVar("livecells_starting_for", default=None)
"""The visitor a kernel start is for, set by the authorizer in the request's own context."""


def _short(visitor: str) -> str:
    return visitor.removeprefix("visitor-")[:8]


class VisitorIdentityProvider(IdentityProvider):
    """An anonymous identity per browser, in a signed, HttpOnly cookie."""

    @property
    def login_available(self) -> bool:
        return False  # nobody logs in: there is no token or password

    def is_token_authenticated(self, handler: web.RequestHandler) -> bool:
        return False  # so XSRF and origin checks always apply

    def get_user(self, handler: web.RequestHandler) -> User:
        raw = handler.get_secure_cookie(VISITOR_COOKIE, max_age_days=VISITOR_DAYS)
        visitor = raw.decode("ascii", "replace") if raw else ""
        if not _VISITOR_ID.match(visitor):
            visitor = secrets.token_hex(16)
            handler.set_secure_cookie(
                VISITOR_COOKIE,
                visitor,
                expires_days=VISITOR_DAYS,
                httponly=True,
                samesite="Strict",
                secure=handler.request.protocol == "https",
                path=handler.settings.get("base_url", "/"),
            )
        return User(username=f"visitor-{visitor}", name="Visitor", display_name="Visitor")

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        self.log.info(
            "livecells: public mode: anonymous visitors, each on kernels of their own; "
            "only the kernel endpoints are open"
        )


class VisitorAuthorizer(Authorizer):
    """Allow the kernel endpoints live pages use, on the visitor's own kernels only."""

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        if resource == "kernelspecs":
            return action == "read"
        if resource != "kernels":
            self.log.info(
                "livecells: refused %s %s (%s) to %s",
                handler.request.method,
                handler.request.path,
                resource,
                _short(user.username),
            )
            return False
        kernel_id = handler.path_kwargs.get("kernel_id")
        if kernel_id is None:
            # POST /api/kernels starts one; the list of every kernel is nobody's business.
            if handler.request.method == "POST" and action == "write":
                _starting_for.set(user.username)
                return True
            return False
        kernels = handler.settings["kernel_manager"]
        if kernel_id not in kernels:
            return True  # the handler answers 404: gone (culled), which the page reports
        owner = kernels.owners.get(kernel_id) if isinstance(kernels, VisitorKernels) else None
        if owner != user.username:
            self.log.warning(
                "livecells: %s asked for kernel %s, which is not theirs",
                _short(user.username),
                kernel_id,
            )
            return False
        return True


class VisitorKernels(AsyncMappingKernelManager):
    """Kernel ownership, limits and the warm pool: jupyter_server's kernel manager, and (mixed
    in before it) its gateway kernel manager."""

    max_kernels_per_visitor = Int(2, config=True, help="Running kernels one visitor may have.")
    max_kernels = Int(40, config=True, help="Running visitor kernels in all (0: no limit).")
    kernel_starts_per_minute = Int(
        6, config=True, help="Kernel starts one visitor may make per minute."
    )
    pool_size = Int(
        2, config=True, help="Started kernels kept ready for the next visitors (0: none)."
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owners: dict[str, str] = {}
        self._starting: dict[str, int] = {}
        """Kernel starts under way per visitor: they count against the limits already, so
        requests sent in parallel cannot slip past them."""
        self._starts: dict[str, deque[float]] = {}
        self._pool: dict[tuple[str, str], list[str]] = {}
        self._pooled: set[str] = set()
        self._filling: asyncio.Future[None] | None = None
        self.pool_hits = 0
        self.pool_misses = 0

    # -- limits -------------------------------------------------------------------------------

    def _refuse(self, status: int, visitor: str, reader: str, operator: str) -> None:
        self.log.warning("livecells: %s: %s", _short(visitor), operator)
        raise web.HTTPError(status, reader, reason=reader[:60])

    def _check_limits(self, visitor: str) -> None:
        mine = sum(1 for owner in self.owners.values() if owner == visitor)
        mine += self._starting.get(visitor, 0)
        if self.max_kernels_per_visitor and mine >= self.max_kernels_per_visitor:
            self._refuse(
                429,
                visitor,
                f"you already have {mine} running kernel{'s' if mine > 1 else ''}, this site's "
                "limit per visitor: "
                "close one (Sessions) or wait until an idle one is shut down",
                f"hit the per-visitor kernel limit ({self.max_kernels_per_visitor})",
            )
        if self.max_kernels and len(self.owners) + sum(self._starting.values()) >= self.max_kernels:
            self._refuse(
                503,
                visitor,
                f"this site is running as many kernels as it may ({self.max_kernels}): "
                "try again in a few minutes",
                f"refused: the site's kernel limit ({self.max_kernels}) is reached",
            )
        starts = self._starts.setdefault(visitor, deque())
        now = time.monotonic()
        while starts and now - starts[0] > 60:
            starts.popleft()
        if self.kernel_starts_per_minute and len(starts) >= self.kernel_starts_per_minute:
            wait = int(60 - (now - starts[0])) + 1
            self._refuse(
                429,
                visitor,
                f"too many kernel starts ({self.kernel_starts_per_minute} a minute): "
                f"try again in {wait} s",
                f"hit the kernel start rate limit ({self.kernel_starts_per_minute}/min)",
            )

    # -- the kernel manager's own methods -----------------------------------------------------

    async def start_kernel(  # type: ignore[override]
        self,
        *,
        kernel_id: str | None = None,
        path: Any = None,
        kernel_name: str | None = None,
        **kwargs: Any,
    ) -> str:
        visitor = _starting_for.get()
        if visitor is None:  # the server's own start (the pool)
            started: str = await super().start_kernel(
                kernel_id=kernel_id, path=path, kernel_name=kernel_name, **kwargs
            )
            return started
        _starting_for.set(None)
        if kernel_id is not None:
            raise web.HTTPError(403, "a visitor cannot choose a kernel id")
        self._check_limits(visitor)
        self._starts[visitor].append(time.monotonic())
        name = kernel_name or self.default_kernel_name
        key = (name, os.path.dirname(path or ""))
        pooled = self._pool.get(key)
        hit = bool(pooled)
        if pooled:
            kernel_id = pooled.pop(0)
            self._pooled.discard(kernel_id)
            self.pool_hits += 1
        else:
            self._starting[visitor] = self._starting.get(visitor, 0) + 1
            try:
                kernel_id = await super().start_kernel(path=path, kernel_name=name, **kwargs)
            finally:
                self._starting[visitor] -= 1
                if not self._starting[visitor]:
                    del self._starting[visitor]
            self.pool_misses += 1
        assert kernel_id is not None
        self.owners[kernel_id] = visitor
        self.log.info(
            "livecells: kernel %s (%s) for %s%s",
            kernel_id,
            name,
            _short(visitor),
            " from the pool" if hit else "",
        )
        self.fill_pool(key)
        return kernel_id

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> Any:
        result = await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        if not restart:  # only once it is gone: until then it is the owner's (and 404 after)
            self.owners.pop(kernel_id, None)
        return result

    async def cull_kernel_if_idle(self, kernel_id: str) -> Any:
        if kernel_id in self._pooled:
            return None  # waiting for a visitor is not idleness
        owner = self.owners.get(kernel_id)
        result = await super().cull_kernel_if_idle(kernel_id)
        if owner and kernel_id not in self:
            self.owners.pop(kernel_id, None)
            self.log.info("livecells: culled idle kernel %s of %s", kernel_id, _short(owner))
        return result

    # -- the pool -----------------------------------------------------------------------------

    def fill_pool(self, key: tuple[str, str] | None = None) -> None:
        """Top the pool up in the background: for ``key`` (the kind of kernel just taken), or
        the default kernel in the root folder."""
        if self.pool_size <= 0:
            return
        key = key or (self.default_kernel_name, "")
        self._pool.setdefault(key, [])
        if self._filling is None or self._filling.done():
            self._filling = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        while len(self._pooled) < self.pool_size:
            wanted = min(self._pool, key=lambda key: len(self._pool[key]), default=None)
            if wanted is None:
                return
            name, folder = wanted
            path: Any = f"{folder}/_" if folder else None
            try:
                kernel_id = await super().start_kernel(kernel_name=name, path=path)
            except Exception as exc:  # a pool that cannot fill is logged, not fatal
                self.log.warning("livecells: the kernel pool cannot start %s: %s", name, exc)
                return
            self._pool[wanted].append(kernel_id)
            self._pooled.add(kernel_id)


class PublicKernelManager(VisitorKernels):
    """Local kernels, owned by visitors."""


class PublicGatewayKernelManager(VisitorKernels, GatewayMappingKernelManager):
    """Kernels on a Jupyter Enterprise Gateway / Kernel Gateway, owned by visitors."""


class LimitedKernelManager(ServerKernelManager):
    """A local kernel under rlimits: its address space and its CPU seconds."""

    memory_limit = Int(
        1024, config=True, help="Megabytes of address space per kernel (0: no limit)."
    )
    cpu_limit = Int(600, config=True, help="CPU seconds per kernel process (0: no limit).")

    @default("transport")
    def _default_transport(self) -> str:
        """Unix sockets, not TCP ports: kernels started in a burst (the pool, many visitors)
        cannot be handed a port another connection took meanwhile. A socket's path (beside the
        connection file, ``-ipc-N`` added) must fit ``sun_path``; where the runtime folder is
        too deep for that, TCP."""
        socket_path = os.path.splitext(self.connection_file)[0] + "-ipc-99"
        return "ipc" if len(os.fsencode(socket_path)) < _SUN_PATH_MAX else "tcp"

    async def _async_post_start_kernel(self, **kw: Any) -> None:
        await super()._async_post_start_kernel(**kw)
        self._hiding = asyncio.ensure_future(self._hide_connection_file())

    async def _hide_connection_file(self) -> None:
        """Once the kernel has read its connection file (it answers), delete it: the file holds
        the key that signs messages, and other visitors' kernels run as the same user. The
        server keeps the key in memory. A restart writes the file again, and hides it again.

        Only a kernel_info round trip, asked on the control and the shell channel at once, the
        first answer deciding: ipykernel answers on control after it has read (and rewritten)
        the file, even while a cell runs (on shell it would wait behind the cell: after a
        restart, a visitor's first cell kept the key on disk for as long as it ran); kernels
        that answer it only on shell (a kernel with no control handler for it) answer there.
        jupyter_client's wait_for_ready would also drain iopub until it falls quiet for 0.2 s,
        which for a visitor already running cells means decoding every output twice for as
        long as they keep running (measured: +50 ms per cell with 10 visitors)."""
        client = self.client()
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=True)

        async def answers(channel: Any) -> bool:
            request = client.session.msg("kernel_info_request")
            channel.send(request)
            with contextlib.suppress(Empty):
                while True:
                    reply = await channel.get_msg(timeout=1)
                    if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
                        return True
            return False

        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                asked = [
                    asyncio.ensure_future(answers(channel))
                    for channel in (client.control_channel, client.shell_channel)
                ]
                try:
                    for answer in asyncio.as_completed(asked):
                        if await answer:
                            with contextlib.suppress(OSError):
                                os.remove(self.connection_file)
                            return
                finally:
                    for task in asked:
                        task.cancel()
                if not await self.is_alive():
                    return  # a kernel that does not come up keeps its file for the restarter
        finally:
            client.stop_channels()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command: list[str] = super().format_kernel_cmd(extra_arguments)
        if not (self.memory_limit or self.cpu_limit):
            return command
        # The script by its path, isolated and without site: it imports only the standard
        # library, so each kernel start costs ~0.03 s of CPU more instead of ~0.25 s (the
        # livecells package and its imports).
        limits = [sys.executable, "-I", "-S", limits_script.__file__]
        limits += [f"--memory={self.memory_limit * 1024 * 1024}", f"--cpu={self.cpu_limit}", "--"]
        return limits + command


class OutputCap(LoggingConfigurable):
    """The output cap of one execution, shared by the connections to local kernels and to a
    gateway's: counts the output bytes of each request until its kernel goes idle."""

    max_output_bytes = Int(
        1_000_000, config=True, help="Output bytes one execution may send (0: no limit)."
    )

    def _past_cap(self, kind: str, parent: dict[str, Any], size: int, idle: bool) -> bool:
        """Whether an iopub message of ``kind`` and ``size`` bytes, answering ``parent``, is
        to be dropped; the first one past the cap tells the reader (:meth:`_tell_reader`) and
        the operator. ``idle``: the kernel went idle after ``parent`` (its count ends)."""
        counts: dict[str, int] = self.__dict__.setdefault("_output_bytes", {})
        request = parent.get("msg_id", "")
        if kind == "status":
            if idle:
                counts.pop(request, None)
            return False
        if kind not in OUTPUT_TYPES:
            return False
        total = counts.get(request, 0) + size
        counts[request] = total
        if total <= self.max_output_bytes:
            return False
        if total - size <= self.max_output_bytes:
            self.log.warning(
                "livecells: kernel %s: an execution passed %d output bytes; the rest is dropped",
                getattr(self, "kernel_id", "?"),
                self.max_output_bytes,
            )
            self._tell_reader(
                f"\n[livecells] this cell's output passed this site's limit of "
                f"{self.max_output_bytes:,} bytes: the rest is not shown.\n",
                parent,
            )
        return True

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        raise NotImplementedError


class PublicWebsocketConnection(OutputCap, NoDelayWebsocketConnection):
    """A connection to a local kernel that caps the output of one execution."""

    def _limit_rate(self, channel: Any, msg: dict[str, Any], msg_list: list[Any]) -> bool:
        if channel == "iopub" and self.max_output_bytes:
            msg["header"] = self.get_part("header", msg["header"], msg_list)
            kind = msg["header"]["msg_type"]
            if kind == "status" or kind in OUTPUT_TYPES:
                parent = self.get_part("parent_header", msg["parent_header"], msg_list)
                idle = False
                if kind == "status":
                    msg["content"] = self.get_part("content", msg["content"], msg_list)
                    idle = msg["content"].get("execution_state") == "idle"
                if self._past_cap(kind, parent, sum(len(part) for part in msg_list), idle):
                    return True
        result: bool = super()._limit_rate(channel, msg, msg_list)
        return result

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        self.write_stderr(text, parent)


class PublicGatewayWebsocketConnection(OutputCap, NoDelayGatewayWebsocketConnection):
    """A connection to a gateway's kernel (JSON text frames) that caps the output of one
    execution, as :class:`PublicWebsocketConnection` does for local kernels."""

    def handle_outgoing_message(self, incoming_msg: str, *args: Any) -> None:
        if self.max_output_bytes:
            try:
                msg = json.loads(incoming_msg)
                kind = msg["header"]["msg_type"]
                parent = msg["parent_header"]
                idle = kind == "status" and msg["content"].get("execution_state") == "idle"
            except (ValueError, KeyError, TypeError, AttributeError):
                pass  # not a kernel message: passed on as it is
            else:
                if msg.get("channel") == "iopub" and self._past_cap(
                    kind, parent, len(incoming_msg), idle
                ):
                    return
        super().handle_outgoing_message(incoming_msg, *args)

    def _tell_reader(self, text: str, parent: dict[str, Any]) -> None:
        note = Session(key=b"").msg("stream", {"name": "stderr", "text": text}, parent=parent)
        note["channel"] = "iopub"
        super().handle_outgoing_message(json.dumps(note, default=json_default))
