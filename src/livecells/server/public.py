"""``livecells serve --public``: a live site anyone may open, each visitor on kernels of their own.

jupyter_server's own seams do the work, so its handlers, kernel protocol and gateway support
stay as they are:

- :class:`VisitorIdentityProvider`: every visitor is anonymous and known by a signed cookie
  (tornado's secure cookie, keyed by the server's cookie secret); there is no token to hand out,
  so none reaches a page. A forged or tampered cookie is no one: it gets a new identity. A
  visitor's name is a hash of the cookie's id (logs never hold the id). Pages of an
  ``--allow-origin`` site that send no cookie are the reader of the token their client sends,
  at their address.
- :class:`VisitorAuthorizer`: only what live pages and Jupyter clients use is allowed: starting
  a kernel, and reading, interrupting, restarting, deleting and connecting to one's *own*
  kernels (someone else's: 403), one's own sessions and kernel list
  (:mod:`livecells.server.service` scopes them), and reading kernelspecs. Contents, files,
  terminals, kernelspec writes, config and everything else: 403.
- :class:`VisitorKernels`, mixed into jupyter_server's kernel manager (local kernels) or its
  gateway kernel manager (``--gateway-url``: Jupyter Enterprise Gateway or Kernel Gateway):
  records who owns which kernel, from which address, and holds the limits (kernels per visitor
  and per address, in total, kernel starts per minute), counting only kernels that are not dead
  for good; confines a kernel's folder to DIR; keeps a pool of started kernels so a visitor's
  first cell does not wait for a kernel start (a pooled kernel goes to one visitor and is never
  reused).
- :class:`LimitedKernelManager`: each local kernel runs under rlimits (address space, CPU
  seconds) set by :mod:`livecells.server.limits` before it execs the kernel, and its connection
  file (the message-signing key) is deleted once the kernel has read it. With ``sandbox`` on,
  its provisioner starts it in a bubblewrap sandbox (:mod:`livecells.server.sandbox`).
- :mod:`livecells.server.outputcap`: the kernel WebSockets of local kernels and of a gateway's
  cap the output bytes of one execution, over every iopub message; past it the reader gets one
  line saying so and the rest is dropped. They note the visitor's activity; the local one also
  caps the WebSockets a visitor (and an address) may hold.

Culling is jupyter_server's (``cull_idle_timeout``, ``cull_connected``), with safe defaults set
by the command, but idleness is the visitor's: what they last asked of the kernel, not what it
last sent. Every refusal gives the reader a message that says what to do and the operator a log
line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import sys
import time
import uuid
from collections import deque
from contextvars import ContextVar
from datetime import datetime
from queue import Empty
from typing import Any

from jupyter_client.kernelspec import NoSuchKernel
from jupyter_client.session import Session
from jupyter_server._tz import utcnow
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.gateway.managers import GatewayMappingKernelManager
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from tornado import web
from traitlets import Bool, Int, default

from livecells.server import limits as limits_script

__all__ = [
    "LimitedKernelManager",
    "PublicGatewayKernelManager",
    "PublicKernelManager",
    "VisitorAuthorizer",
    "VisitorIdentityProvider",
    "VisitorKernels",
]

_SUN_PATH_MAX = 104  # bytes in a Unix socket address, the final NUL included (macOS; Linux: 108)

VISITOR_COOKIE = "livecells-visitor"
VISITOR_DAYS = 1
_VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")
_BEARER = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_MAX_PATH = 1024
_starting_for: ContextVar[tuple[str, str] | None] = ContextVar(
    "livecells_starting_for", default=None
)
"""The visitor and client address a kernel start is for, set by the authorizer in the request's
own context."""


def _short(visitor: str) -> str:
    return visitor.removeprefix("visitor-")[:8]


def client_address(handler: web.RequestHandler) -> str:
    """The visitor's address: the socket's peer, or, behind ``--trust-forwarded-headers``
    (tornado's ``xheaders``), X-Real-IP or the right-most hop of X-Forwarded-For."""
    return handler.request.remote_ip or ""


def allowed_origins(handler: web.RequestHandler) -> frozenset[str]:
    """The other sites whose pages may use this one's kernels (``--allow-origin``)."""
    origins: frozenset[str] = handler.settings.get("livecells_allowed_origins", frozenset())
    return origins


def from_allowed_origin(handler: web.RequestHandler) -> bool:
    origin = handler.request.headers.get("Origin") or handler.request.headers.get(
        "Sec-Websocket-Origin"
    )
    return origin is not None and origin.lower().rstrip("/") in allowed_origins(handler)


class VisitorIdentityProvider(IdentityProvider):
    """An anonymous identity per browser, in a signed, HttpOnly cookie."""

    @property
    def login_available(self) -> bool:
        return False  # nobody logs in: there is no token or password

    def is_token_authenticated(self, handler: web.RequestHandler) -> bool:
        """False, so XSRF and origin checks apply; except for requests from the pages of an
        ``--allow-origin`` site: they cannot read this site's _xsrf cookie, and a browser
        never lets another site send their Origin (CORS keeps the rest out)."""
        return from_allowed_origin(handler)

    def get_user(self, handler: web.RequestHandler) -> User:
        """The visitor of the cookie, or a new one. Their name is a hash of the cookie's id,
        so logs (jupyter_server's access log names the user) never hold the id itself."""
        raw = handler.get_secure_cookie(VISITOR_COOKIE, max_age_days=VISITOR_DAYS)
        visitor = raw.decode("ascii", "replace") if raw else ""
        if not _VISITOR_ID.match(visitor) and from_allowed_origin(handler):
            token = _bearer_token(handler)
            if token is not None:
                # A listed site's page whose client sends no cookie (thebe's default fetch)
                # but a random token of its own: the reader is that token, at that address
                # (a token written into a site's config is no one's secret).
                bound = f"token:{token}@{client_address(handler)}"
                hashed = hashlib.sha256(bound.encode()).hexdigest()[:32]
                return User(username=f"visitor-{hashed}", name="Visitor", display_name="Visitor")
        if not _VISITOR_ID.match(visitor):
            visitor = secrets.token_hex(16)
            # Pages of other sites (--allow-origin) send it only when it is SameSite=None,
            # which browsers accept only on Secure cookies.
            shared = bool(allowed_origins(handler))
            handler.set_secure_cookie(
                VISITOR_COOKIE,
                visitor,
                expires_days=VISITOR_DAYS,
                httponly=True,
                samesite="None" if shared else "Strict",
                secure=shared or handler.request.protocol == "https",
                path=handler.settings.get("base_url", "/"),
            )
        hashed = hashlib.sha256(visitor.encode("ascii")).hexdigest()[:32]
        return User(username=f"visitor-{hashed}", name="Visitor", display_name="Visitor")

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        self.log.info(
            "livecells: public mode: anonymous visitors, each on kernels of their own; "
            "only the kernel endpoints are open"
        )


def _bearer_token(handler: web.RequestHandler) -> str | None:
    """The token a Jupyter client sends (``Authorization: token T``, or ``?token=T`` on a
    WebSocket), of 8 to 128 letters, digits, ``-`` or ``_`` (thebe's: 8 random hex digits per
    page, which the address it is bound to narrows to the reader's own network)."""
    header = handler.request.headers.get("Authorization", "")
    token = header[len("token ") :] if header.startswith("token ") else None
    if token is None:
        token = handler.get_query_argument("token", None)
    return token if token is not None and _BEARER.match(token) else None


class VisitorAuthorizer(Authorizer):
    """Allow the kernel endpoints live pages use, on the visitor's own kernels only."""

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        if resource == "kernelspecs":
            return action == "read"
        if resource == "sessions":
            # The session handlers (livecells.server.service) show and touch only the
            # visitor's own sessions; creating one, or changing its kernel, starts a kernel.
            if action == "write":
                _starting_for.set((user.username, client_address(handler)))
            return True
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
            # POST /api/kernels starts one; GET lists the visitor's own (VisitorKernelList).
            if handler.request.method == "POST" and action == "write":
                _starting_for.set((user.username, client_address(handler)))
                return True
            return handler.request.method == "GET" and action == "read"
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
        if handler.request.method == "POST" and isinstance(kernels, VisitorKernels):
            kernels.note_activity(kernel_id)  # an interrupt or restart
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
        self._cleanups: set[asyncio.Future[Any]] = set()
        self.addresses: dict[str, str] = {}
        """The client address each visitor kernel was started from."""
        self._starting: dict[str, int] = {}
        """Kernel starts under way per visitor: they count against the limits already, so
        requests sent in parallel cannot slip past them."""
        self._starting_at: dict[str, int] = {}
        """The same, per client address."""
        self._starts: dict[str, deque[float]] = {}
        self._activity: dict[str, datetime] = {}
        """When each visitor kernel's visitor last asked something of it (a message, an
        interrupt, a restart): what culling goes by, not what the kernel itself sends."""
        self._pool: dict[tuple[str, str], list[str]] = {}
        self._pooled: set[str] = set()
        self._filling: asyncio.Future[None] | None = None
        self.pool_hits = 0
        self.pool_misses = 0

    # -- limits -------------------------------------------------------------------------------

    def _refuse(self, status: int, visitor: str, reader: str, operator: str) -> None:
        self.log.warning("livecells: %s: %s", _short(visitor), operator)
        raise web.HTTPError(status, reader, reason=reader[:60])

    def running(self) -> dict[str, str]:
        """The visitor kernels that count: started and not dead for good (a kernel whose
        restarts failed stays in the map until culled, and must hold no one's place)."""
        alive = {}
        for kernel_id, owner in list(self.owners.items()):
            kernel = self._kernels.get(kernel_id)
            if kernel is None:  # gone without a shutdown: its restarts failed
                self._forget(kernel_id)
            elif getattr(kernel, "execution_state", "") != "dead":
                alive[kernel_id] = owner
        return alive

    def _check_limits(self, visitor: str, address: str) -> None:
        running = self.running()
        mine = sum(1 for owner in running.values() if owner == visitor)
        mine += self._starting.get(visitor, 0)
        # The same limit binds the client address: cookie jars are free, addresses are not.
        here = sum(1 for kernel_id in running if self.addresses.get(kernel_id) == address)
        here += self._starting_at.get(address, 0)
        limit = self.max_kernels_per_visitor
        if limit and max(mine, here) >= limit:
            held = max(mine, here)
            self._refuse(
                429,
                visitor,
                f"you already have {held} running kernel{'s' if held > 1 else ''}, this site's "
                "limit per visitor: "
                "close one (Sessions) or wait until an idle one is shut down",
                f"hit the per-visitor kernel limit ({limit})"
                + ("" if mine >= limit else f" from {address}"),
            )
        starting = sum(self._starting.values())
        if self.max_kernels and len(running) + starting >= self.max_kernels:
            self._refuse(
                503,
                visitor,
                f"this site is running as many kernels as it may ({self.max_kernels}): "
                "try again in a few minutes",
                f"refused: the site's kernel limit ({self.max_kernels}) is reached",
            )
        now = time.monotonic()
        for key in (visitor, address):
            starts = self._starts.setdefault(key, deque())
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

    def _confined(self, path: Any) -> None:
        """A visitor's kernel starts in a folder of DIR: anything else (``..``, an absolute
        path, a NUL byte, a path too long to be a page's) is no such folder."""
        if path is None:
            return
        text = str(path)
        if "\0" in text or len(text) > _MAX_PATH:
            raise web.HTTPError(404, "no such folder")
        root = os.path.realpath(self.root_dir)
        folder = os.path.realpath(self.cwd_for_path(text))
        if os.path.commonpath([root, folder]) != root:
            self.log.warning("livecells: refused a kernel in %r, outside the served folder", text)
            raise web.HTTPError(404, "no such folder")

    def note_activity(self, kernel_id: str) -> None:
        if kernel_id in self.owners:
            self._activity[kernel_id] = utcnow()

    # -- the kernel manager's own methods -----------------------------------------------------

    async def start_kernel(  # type: ignore[override]
        self,
        *,
        kernel_id: str | None = None,
        path: Any = None,
        kernel_name: str | None = None,
        **kwargs: Any,
    ) -> str:
        starting = _starting_for.get()
        if starting is None:  # the server's own start (the pool)
            started: str = await super().start_kernel(
                kernel_id=kernel_id, path=path, kernel_name=kernel_name, **kwargs
            )
            return started
        _starting_for.set(None)
        visitor, address = starting
        if kernel_id is not None:
            raise web.HTTPError(403, "a visitor cannot choose a kernel id")
        name = kernel_name or self.default_kernel_name
        if not isinstance(name, str) or "\0" in name or len(name) > 256:
            raise web.HTTPError(404, "no such kernel")
        self._confined(path)
        self._check_limits(visitor, address)
        self._starts[visitor].append(time.monotonic())
        self._starts[address].append(time.monotonic())
        key = (name, os.path.dirname(path or ""))
        pooled = self._pool.get(key)
        hit = bool(pooled)
        if pooled:
            kernel_id = pooled.pop(0)
            self._pooled.discard(kernel_id)
            self.pool_hits += 1
        else:
            under_way = ((self._starting, visitor), (self._starting_at, address))
            for counts, who in under_way:
                counts[who] = counts.get(who, 0) + 1
            try:
                kernel_id = await super().start_kernel(path=path, kernel_name=name, **kwargs)
            except NoSuchKernel:
                raise web.HTTPError(404, f"this site has no kernel named {name!r}") from None
            finally:
                for counts, who in under_way:
                    counts[who] -= 1
                    if not counts[who]:
                        del counts[who]
            self.pool_misses += 1
        assert kernel_id is not None
        self.owners[kernel_id] = visitor
        self.addresses[kernel_id] = address
        self.note_activity(kernel_id)
        self.log.info(
            "livecells: kernel %s (%s) for %s%s",
            kernel_id,
            name,
            _short(visitor),
            " from the pool" if hit else "",
        )
        self.fill_pool(key)
        return kernel_id

    def _forget(self, kernel_id: str) -> None:
        self.owners.pop(kernel_id, None)
        self.addresses.pop(kernel_id, None)
        self._activity.pop(kernel_id, None)

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> Any:
        result = await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        if not restart:  # only once it is gone: until then it is the owner's (and 404 after)
            self._forget(kernel_id)
        return result

    def _handle_kernel_died(self, kernel_id: str) -> None:
        """Its restarts failed: jupyter_server drops it from the map, and so from
        :meth:`running`, which every count goes by."""
        owner = self.owners.get(kernel_id)
        kernel = self._kernels.get(kernel_id)
        super()._handle_kernel_died(kernel_id)
        if kernel is not None:
            # jupyter_server drops it without a cleanup: its sandbox's folder and cgroup go here.
            cleanup = asyncio.ensure_future(kernel._async_cleanup_resources(restart=False))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        self._pooled.discard(kernel_id)
        for pooled in self._pool.values():
            if kernel_id in pooled:
                pooled.remove(kernel_id)
        if owner:
            self.log.info("livecells: kernel %s of %s died for good", kernel_id, _short(owner))

    async def cull_kernel_if_idle(self, kernel_id: str) -> Any:
        if kernel_id in self._pooled:
            return None  # waiting for a visitor is not idleness
        owner = self.owners.get(kernel_id)
        kernel = self._kernels.get(kernel_id)
        if owner and kernel is not None and kernel_id in self._activity:
            # Idle means the visitor asked nothing of it for that long: a kernel that prints
            # every few seconds on its own is idle all the same.
            kernel.last_activity = self._activity[kernel_id]
        result = await super().cull_kernel_if_idle(kernel_id)
        if owner and kernel_id not in self:
            self._forget(kernel_id)
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
    """A local kernel under rlimits (its address space and its CPU seconds) and, with
    ``sandbox`` set, in a bubblewrap sandbox (:mod:`livecells.server.sandbox`)."""

    memory_limit = Int(
        1024, config=True, help="Megabytes of address space per kernel (0: no limit)."
    )
    cpu_limit = Int(600, config=True, help="CPU seconds per kernel process (0: no limit).")
    sandbox = Bool(False, config=True, help="Start each kernel in a bubblewrap sandbox.")
    kernel_network = Bool(True, config=True, help="Sandboxed kernels may use the network.")
    process_limit = Int(
        256, config=True, help="Processes and threads per sandboxed kernel (0: no limit)."
    )

    kernel_image = Bool(
        True,
        config=True,
        help="Fork sandboxed python3 kernels from a kernel image in a sandbox of its own "
        "(also off with LIVECELLS_KERNEL_IMAGE=0).",
    )

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.sandbox and self.provisioner is None:  # not on restarts: it is kept
            from livecells.provisioners.kernelimage import enabled, reconnect_quickly
            from livecells.server.sandbox import SandboxImageProvisioner, SandboxProvisioner

            forked = self.kernel_image and enabled()
            provisioner = SandboxImageProvisioner if forked else SandboxProvisioner
            if forked:
                reconnect_quickly(self.context)  # the server's, for its WebSockets' channels
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = provisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)

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
        # A session of its own: clients of one session share a ZMQ identity, and the kernel's
        # ROUTER sockets drop a second peer of an identity already connected, so another client
        # of the manager's session (``km.client()``: jupyter_client's wait_for_ready) went
        # unanswered for good in 1 start of 10.
        session = Session(key=self.session.key, signature_scheme=self.session.signature_scheme)
        client = self.client(session=session)
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
        if not (self.memory_limit or self.cpu_limit or self.sandbox):
            return command
        # The script by its path, isolated and without site: it imports only the standard
        # library, so each kernel start costs ~0.03 s of CPU more instead of ~0.25 s (the
        # livecells package and its imports).
        limits = [sys.executable, "-I", "-S", limits_script.__file__]
        limits += [f"--memory={self.memory_limit * 1024 * 1024}", f"--cpu={self.cpu_limit}"]
        if self.sandbox:
            limits += [f"--processes={self.process_limit}", "--restore-sigint"]
        return [*limits, "--", *command]
