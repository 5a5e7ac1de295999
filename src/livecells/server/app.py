"""``livecells serve DIR``: a jupyter_server extension application (built the way Voila is)
that serves a folder's pages, live, with the server's own kernels.

The pages live under ``/livecells/``; the kernel API is jupyter_server's own, on the same
origin, so the browser authenticates with the cookie jupyter_server sets when the reader opens
the tokenised URL it printed: no page ever contains the token. Kernel WebSockets set
TCP_NODELAY (:class:`~livecells.server.websocket.NoDelayWebsocketConnection`). A page is
rendered on each request from the file as it is now, and an event stream tells an open page
that its file changed so it reloads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import os
import re
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.ioloop import IOLoop
from traitlets import Bool, Integer, List, Unicode

from livecells.assets import STATIC_DIR
from livecells.errors import ConfigError, NotebookError
from livecells.myst.project import ASSETS as MYST_ASSETS
from livecells.notebooks import SKIPPED_DIRS
from livecells.pageconfig import Served
from livecells.pagefiles import FILES_DIR, LISTING, Rules, listable, listing_root
from livecells.server import service
from livecells.server.outputcap import PublicGatewayWebsocketConnection, PublicWebsocketConnection
from livecells.server.public import VisitorKernels
from livecells.server.websocket import NoDelayGatewayWebsocketConnection
from livecells.site import ASSETS, Site
from livecells.sphinx.built import is_built_html
from livecells.wheels import DEFAULT_TIMEOUT, fetch_wheels

__all__ = ["LivecellsApp"]

WATCH_INTERVAL = 0.1
CHUNK = 64 * 1024
"""Bytes of a file read and sent at a time: a large file never sits whole in memory."""
MAX_URL_PATH = 1024
ISOLATION_HEADERS = {
    # Cross-origin isolation (SharedArrayBuffer, for interrupting in-browser kernels), while
    # still letting a page embed images from other sites without credentials.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "credentialless",
}


class LivecellsApp(ExtensionApp):
    """Serve DIR's notebooks and MyST pages with live code cells."""

    name = "livecells"
    description = "Serve a folder of notebooks and MyST pages with live code cells."
    extension_url = "/livecells/"
    default_url = "/livecells/"
    # Other installed server extensions (jupytext's contents manager, terminals, JupyterLab)
    # change what the server does; they load only with `livecells serve --with-extensions`.
    load_other_extensions = False
    serverapp_config = {
        "kernel_websocket_connection_class": (
            "livecells.server.websocket.NoDelayWebsocketConnection"
        ),
    }

    directory = Unicode(
        "", config=True, help="The folder to serve (default: the server's root_dir)."
    )
    wheels: WheelsPreparation

    auto_run = Bool(
        None, allow_none=True, config=True, help="Override the project's autoRun for every page."
    )
    public = Bool(
        False,
        config=True,
        help="Serve the public: anonymous visitors, each on kernels of their own (see "
        "livecells.server.public); set up by `livecells serve --public`.",
    )
    connection_timeout = Integer(
        60,
        config=True,
        help="Public: seconds a kernel WebSocket may go without answering the server's pings "
        "(a reader whose network vanished) before the server closes it (0: jupyter_server's "
        "own keep-alive, 90 s).",
    )

    allow_origins = List(
        Unicode(),
        config=True,
        help="Public: origins (https://site.example) whose pages may use this site's kernels "
        "with the visitor's cookie (thebe, MyST sites); set by `livecells serve --allow-origin`.",
    )
    header_timeout = Integer(
        30,
        config=True,
        help="Seconds a connection may take to send a request's headers (slowloris), and may "
        "stay idle between requests, before the server closes it.",
    )
    body_timeout = Integer(
        60,
        config=True,
        help="Seconds a client may take to send a request's body (a slow POST) before the "
        "server closes the connection.",
    )

    @classmethod
    def get_extension_package(cls) -> str:
        return "livecells.server"

    def initialize_settings(self) -> None:
        server = self.serverapp
        assert server is not None
        root = Path(self.directory or server.root_dir)
        serving = Served(
            base_url=server.base_url,
            open_in_jupyter=None if self.public else _jupyter_url(server),
            watch=not self.public,
            auto_run=self.auto_run,
        )
        site = Site(root, default_runtime="livecells", served=serving)
        site.watch()  # mystmd keeps the pages' AST current as files change
        # Served pages carry the built pages' CSP: a page's raw HTML, on this origin with the
        # author's login, must not run scripts that reach the server's API.
        site.csp = True
        if self.public:
            # A connection whose reader vanished without closing it is closed by jupyter_server's
            # own keep-alive (pings a third of the timeout apart; in milliseconds). 0 keeps
            # jupyter_server's defaults (30 s pings, 90 s).
            if self.connection_timeout > 0:
                self.settings["ws_ping_interval"] = max(1000, self.connection_timeout * 1000 // 3)
                self.settings["ws_ping_timeout"] = self.connection_timeout * 1000
            # Readers may switch only to runtimes that keep the CSP's connect-src narrow: the
            # site's kernels and Pyodide.
            site.switchable = frozenset({"livecells", "pyodide"})
            self._allow_origins()
            kernels = server.kernel_manager
            if isinstance(kernels, VisitorKernels):
                IOLoop.current().add_callback(kernels.fill_pool)
            else:
                self.log.warning("livecells: --public without its kernel manager: no isolation")
        self.settings["livecells_site"] = site
        # A built HTML folder (Sphinx's _build/html): its pages are served as they are.
        self.settings["livecells_built"] = site.root if is_built_html(site.root) else None
        self.settings["livecells_public"] = self.public
        IOLoop.current().add_callback(self._bound_request_waits)
        # Kernel WebSockets: ours (TCP_NODELAY; and the output cap when public), to local
        # kernels or, through jupyter_server's gateway connection, to a gateway's.
        gateway = server.gateway_config.gateway_enabled
        if self.public:
            public = PublicGatewayWebsocketConnection if gateway else PublicWebsocketConnection
            self.settings["kernel_websocket_connection_class"] = public
        elif gateway:
            self.settings["kernel_websocket_connection_class"] = NoDelayGatewayWebsocketConnection
        self.wheels = WheelsPreparation(site, self.log)
        self.settings["livecells_wheels"] = self.wheels
        if self.settings["livecells_built"] is None:
            # Resolved once the server listens, never before: pip may take minutes.
            IOLoop.current().add_callback(self.wheels.run)
        else:  # a built folder ships its own wheels
            self.wheels.skip()

    def _allow_origins(self) -> None:
        """CORS with credentials for exactly the ``--allow-origin`` sites (see
        :mod:`livecells.server.service`)."""
        origins = frozenset(origin.lower().rstrip("/") for origin in self.allow_origins)
        self.settings["livecells_allowed_origins"] = origins
        if not origins:
            return
        self.settings["allow_origin_pat"] = re.compile(service.origin_pattern(origins))
        self.settings["allow_credentials"] = True
        self.log.warning(
            "livecells: pages of %s may use this site's kernels with the visitor's cookie, "
            "which is then SameSite=None; Secure: serve this site over HTTPS (a reverse proxy "
            "in front, with --trust-forwarded-headers); over plain HTTP, browsers keep that "
            "cookie only for localhost and 127.0.0.1",
            ", ".join(sorted(origins)),
        )

    def _bound_request_waits(self) -> None:
        """A client has ``header_timeout`` seconds to send a request's headers (tornado's
        default is an hour: a slowloris holds a connection that long per few bytes), and
        ``body_timeout`` its body (tornado's default: no limit). The server's HTTPServer
        exists once the loop runs; jupyter_server has no setting for either."""
        server = self.serverapp
        http = getattr(server, "_http_server", None) if server is not None else None
        if http is not None and self.header_timeout > 0:
            http.conn_params.header_timeout = self.header_timeout
        if http is not None and self.body_timeout > 0:
            http.conn_params.body_timeout = self.body_timeout

    def initialize_handlers(self) -> None:
        if self.public:
            # Ahead of jupyter_server's own: visitors see only their own sessions and kernels.
            self.handlers.extend(service.HANDLERS)
        self.handlers.extend(
            [
                (rf"/livecells/{ASSETS}/wheels/(.*)", WheelsHandler, {"wheels": self.wheels}),
                (rf"/livecells/{ASSETS}/{FILES_DIR}/(.*){LISTING}", FilesHandler),
                (rf"/livecells/{ASSETS}/(.*)", AssetHandler, {"path": str(STATIC_DIR)}),
                *([] if self.public else [(r"/livecells/api/changes", ChangesHandler)]),
                (r"/livecells/(.*)", self._page_handler()),
                (r"/livecells", web.RedirectHandler, {"url": "livecells/"}),
            ]
        )

    def _page_handler(self) -> type[web.RequestHandler]:
        if self.settings["livecells_built"] is None:
            return PageHandler
        from livecells.server.built import BuiltPageHandler  # imports this module

        return BuiltPageHandler


def _jupyter_url(server: Any) -> str | None:
    """Where the served folder opens in Jupyter: JupyterLab or Notebook, when this server loaded
    one (``livecells serve --with-extensions`` with either installed), else nowhere."""
    loaded = server.extension_manager.extensions
    if "jupyterlab" in loaded:
        return f"{server.base_url}lab/tree/"
    if "notebook" in loaded:
        return f"{server.base_url}tree/"
    return None


class _SiteHandler(ExtensionHandlerMixin, JupyterHandler):
    @property
    def site(self) -> Site:
        site: Site = self.settings["livecells_site"]
        return site


class PageHandler(_SiteHandler):
    """A page, rendered from its file as it is now; other files of the folder as they are."""

    @web.authenticated
    async def get(self, url: str) -> None:
        site = self.site
        if not _servable(url):
            raise web.HTTPError(404)
        loop = IOLoop.current()
        try:
            # mystmd may run again (a file changed): off the event loop, kernels keep talking
            path = await loop.run_in_executor(None, site.find, url)
            if path is not None:
                self.xsrf_token  # noqa: B018 - sets the _xsrf cookie the client's POSTs echo
                at = Path("index.html") if url.strip("/") in ("", "index.html") else None
                body = await loop.run_in_executor(None, _render, site, path, at)
                for warning in site.untold_warnings(path):
                    self.log.warning("livecells: warning: %s", warning)
                self._send_page(body)
                return
        except (ConfigError, NotebookError) as exc:
            self.set_status(500)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(_error_page(str(exc)))
            return
        if url.startswith(f"{MYST_ASSETS}/"):  # images and files mystmd copied, hashed
            name = url.removeprefix(f"{MYST_ASSETS}/")
            result = site.myst()
            if not result.published(name):
                raise web.HTTPError(404)
            await self._send_file(result.public, name)
            return
        await self._send_file(site.root, url)

    def _send_page(self, body: str) -> None:
        """A page, isolated (COOP/COEP for Pyodide), never sniffed or cached."""
        for name, value in ISOLATION_HEADERS.items():
            self.set_header(name, value)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(body)

    async def _send_file(self, root: Path, url: str) -> None:
        """A file of the folder, in chunks; never one in a hidden, cache or build folder."""
        target = (root / url).resolve()
        if (
            not target.is_relative_to(root)
            or not _servable(target.relative_to(root).as_posix())
            or not target.is_file()
        ):
            raise web.HTTPError(404)
        kind, _ = mimetypes.guess_type(target.name)
        self.set_header("Content-Type", kind or "application/octet-stream")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        with target.open("rb") as source:
            self.set_header("Content-Length", str(os.fstat(source.fileno()).st_size))
            while chunk := source.read(CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()


def _servable(url: str) -> bool:
    """A URL path that may name a file of the folder: no NUL byte, not over-long, and no part
    hidden (``.git``, ``.ipynb_checkpoints``) or a cache or build folder (``__pycache__``,
    ``node_modules``: :data:`~livecells.notebooks.SKIPPED_DIRS`)."""
    if "\0" in url or len(url) > MAX_URL_PATH:
        return False
    parts = [part for part in url.replace("\\", "/").split("/") if part]
    return not any(part.startswith(".") or part in SKIPPED_DIRS for part in parts)


class FilesHandler(_SiteHandler):
    """A page folder's listing (:mod:`livecells.pagefiles`), as a build writes it, from the
    files as they are now; the files themselves are the folder's (:class:`PageHandler`)."""

    @web.authenticated
    async def get(self, folder: str) -> None:
        site = self.site
        folder = folder.strip("/")
        target = (site.root / folder).resolve()
        if not (listable(folder) and target.is_relative_to(site.root) and target.is_dir()):
            raise web.HTTPError(404)
        try:
            rules = Rules.of(site.project)
            listing = await asyncio.to_thread(site.files.listing, folder, rules)
        except ConfigError as exc:
            self.set_status(500)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(str(exc))
            return
        for problem in listing.problems:
            self.log.warning("livecells: %s", problem)
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(listing.to_json(listing_root(folder))))


class AssetHandler(web.StaticFileHandler):
    """The browser client's own files (public: they are the same in every install)."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        # A worker script needs the page's isolation headers of its own to run in it.
        for name, value in ISOLATION_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-cache")


class WheelsPreparation:
    """The wheels of the site's Pyodide pages, resolved in the background once ``livecells
    serve`` listens (fetched once into the cache): meanwhile the pages that need them say they
    are preparing, and reload when they are ready (:class:`ChangesHandler`); a failure, or
    ``livecells.wheelsTimeout`` exceeded, is logged naming the file and leaves those pages
    without them."""

    def __init__(self, site: Site, log: Any) -> None:
        self.site = site
        self.log = log
        self.directory: Path | None = None
        self.done = asyncio.Event()
        site.wheels_preparing = True

    def skip(self) -> None:
        """Nothing to resolve (a built folder ships its own wheels)."""
        self.site.wheels_preparing = False
        self.done.set()

    async def run(self) -> None:
        try:
            self.directory = await asyncio.to_thread(self._resolve)
        finally:
            self.site.wheels = self.directory is not None
            self.site.wheels_preparing = False
            self.done.set()

    def _resolve(self) -> Path | None:
        try:
            requirements = self.site.pyodide_requirements()
            if not requirements:
                return None
            self.log.info("livecells: resolving the Pyodide pages' wheels in the background")
            wheels = fetch_wheels(
                list(requirements),
                timeout=self.site.project.options.get("wheelsTimeout", DEFAULT_TIMEOUT),
                sources=requirements,
            )
        except ConfigError as exc:
            self.log.warning("livecells: Pyodide pages will lack their packages: %s", exc)
            return None
        for problem in wheels.problems:
            self.log.warning("livecells: %s", problem)
        return wheels.directory


class WheelsHandler(web.RequestHandler):
    """The resolved wheels and their lock file (public, as in a built site; 404 until they
    are ready)."""

    def initialize(self, wheels: WheelsPreparation) -> None:
        self.wheels = wheels

    def get(self, path: str) -> None:
        if self.wheels.directory is None:
            raise web.HTTPError(404)
        root = self.wheels.directory.resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise web.HTTPError(404)
        kind, _ = mimetypes.guess_type(target.name)
        self.set_header("Content-Type", kind or "application/octet-stream")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        self.set_header("Cache-Control", "no-cache")
        for name, value in ISOLATION_HEADERS.items():
            self.set_header(name, value)
        self.finish(target.read_bytes())


class ChangesHandler(_SiteHandler):
    """Server-sent events: ``changed`` once mystmd rewrote the page's AST (or the project's
    config changed)."""

    @web.authenticated
    async def get(self) -> None:
        page = self.get_argument("path")
        site = self.site
        if not _servable(page):
            raise web.HTTPError(404)
        target = (site.root / page).resolve()
        if not target.is_relative_to(site.root):
            raise web.HTTPError(404)
        watched = [site.root / "livecells.yml", site.root / "myst.yml"]
        relative = target.relative_to(site.root)

        def stamps() -> list[float]:
            # the page's new AST, not its file: a reload before mystmd wrote it shows the old
            return [site.content_stamp(relative), *(_stamp(path) for path in watched)]

        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-store")
        wheels: WheelsPreparation = self.settings["livecells_wheels"]
        # A page that says it is preparing (its Pyodide wheels, which serve resolves) reloads
        # when they are ready; no other page does: its reader may be running cells.
        preparing = self.get_argument("preparing", "") == "1" and not wheels.done.is_set()
        before = stamps()
        self.write(": watching\n\n")
        await self.flush()
        for beat in itertools.count(1):
            await asyncio.sleep(WATCH_INTERVAL)
            ready = preparing and wheels.done.is_set()
            if ready or stamps() != before:
                self.write("event: changed\ndata: {}\n\n")
                await self.flush()  # raises StreamClosedError once the reader left
                return
            if beat % 5 == 0:
                self.write(": still watching\n\n")
                await self.flush()


def _render(site: Site, path: Path, at: Path | None) -> str:
    return site.render(path, at=at)


def _stamp(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _error_page(message: str) -> str:
    import html

    return (
        "<!doctype html><meta charset=utf-8><title>livecells: error</title>"
        f"<main class=lc-error-page><h1>This page cannot be shown</h1><pre>{html.escape(message)}"
        "</pre><p>Fix the file and reload.</p></main>"
    )
