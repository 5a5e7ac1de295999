"""The kernel service of ``livecells serve --public``, for clients other than our own pages:
thebe (and so MyST / Jupyter Book 2 sites), JupyterLab's ``@jupyterlab/services``.

Those clients start kernels through ``/api/sessions`` and poll ``GET /api/kernels``. Here both
answer a visitor with their own sessions and kernels only: another visitor's session or kernel
is unknown (404), as it would be on a server of one's own. Kernel starts go through
:class:`~livecells.server.public.VisitorKernels`, so its limits apply as they do to
``POST /api/kernels``.

Pages of other sites listed with ``--allow-origin`` may call it with the visitor's cookie:
CORS with credentials for exactly those origins (jupyter_server's ``allow_origin_pat`` and
``allow_credentials``), kept on error answers too, so a client reads the refusal's message
instead of a network error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.services.kernels.handlers import MainKernelHandler
from jupyter_server.services.sessions.handlers import SessionHandler, SessionRootHandler
from jupyter_server.utils import url_path_join
from tornado import web

from livecells.server.public import VisitorKernels

__all__ = ["HANDLERS", "origin_pattern"]

_MAX_PATH = 1024


def origin_pattern(origins: Iterable[str]) -> str:
    """jupyter_server's ``allow_origin_pat`` for exactly these origins."""
    return "^(" + "|".join(re.escape(origin) for origin in sorted(origins)) + ")$"


class _VisitorAPI(APIHandler):
    """Handlers whose answers, refusals included, keep the CORS headers."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_cors_headers()
        super().write_error(status_code, **kwargs)

    @property
    def visitor(self) -> str:
        name: str = self.current_user.username
        return name

    def owns(self, kernel_id: object) -> bool:
        kernels = self.kernel_manager
        return (
            isinstance(kernels, VisitorKernels)
            and isinstance(kernel_id, str)
            and kernels.owners.get(kernel_id) == self.visitor
        )

    async def own_sessions(self) -> list[dict[str, Any]]:
        sessions: list[dict[str, Any]] = await self.session_manager.list_sessions()  # type: ignore[no-untyped-call]
        return [model for model in sessions if self.owns(model["kernel"]["id"])]

    async def own_session(self, session_id: str) -> dict[str, Any]:
        for model in await self.own_sessions():
            if model["id"] == session_id:
                return model
        raise web.HTTPError(404, f"no session {session_id}")


class VisitorKernelList(_VisitorAPI, MainKernelHandler):
    """``GET /api/kernels``: the visitor's own kernels (JupyterLab's poller reads it)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        kernels = await ensure_async(self.kernel_manager.list_kernels())  # type: ignore[no-untyped-call]
        self.finish(json.dumps([k for k in kernels if self.owns(k["id"])], default=str))


class VisitorSessions(_VisitorAPI, SessionRootHandler):
    """``/api/sessions``: list the visitor's sessions; create one (a kernel of theirs)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(json.dumps(await self.own_sessions(), default=str))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        model = self.get_json_body() or {}
        path, kind, name = model.get("path"), model.get("type", "notebook"), model.get("name")
        kernel = model.get("kernel") or {}
        if not isinstance(kernel, dict):
            raise web.HTTPError(400, "kernel must be an object")
        for value in (path, kind, name, kernel.get("name"), kernel.get("id")):
            if value is not None and (
                not isinstance(value, str) or "\0" in value or len(value) > _MAX_PATH
            ):
                raise web.HTTPError(404, "no such path or kernel")
        if not isinstance(path, str):
            raise web.HTTPError(400, "Missing field in JSON data: path")
        kernel_id = kernel.get("id")
        if kernel_id is not None and not self.owns(kernel_id):
            raise web.HTTPError(404, f"no kernel {kernel_id}")
        existing = [s for s in await self.own_sessions() if s["path"] == path]
        if existing:
            session = existing[0]
        else:
            session = await self.session_manager.create_session(
                path=path,
                kernel_name=kernel.get("name"),
                kernel_id=kernel_id,
                name=name,
                type=kind,
            )
        self.set_header("Location", url_path_join(self.base_url, "api", "sessions", session["id"]))
        self.set_status(201)
        self.finish(json.dumps(session, default=str))


class VisitorSession(_VisitorAPI, SessionHandler):
    """``/api/sessions/ID``: the visitor's own session (another's: 404)."""

    @web.authenticated
    @authorized
    async def get(self, session_id: str) -> None:
        self.finish(json.dumps(await self.own_session(session_id), default=str))

    @web.authenticated
    @authorized
    async def patch(self, session_id: str) -> None:
        await self.own_session(session_id)
        model = self.get_json_body() or {}
        kernel = model.get("kernel")
        if (
            isinstance(kernel, dict)
            and kernel.get("id") is not None
            and not self.owns(kernel["id"])
        ):
            raise web.HTTPError(404, f"no kernel {kernel['id']}")
        await ensure_async(super().patch(session_id))

    @web.authenticated
    @authorized
    async def delete(self, session_id: str) -> None:
        await self.own_session(session_id)
        await ensure_async(super().delete(session_id))


class Closed(APIHandler):
    """What visitors may not see at all (``/metrics``): not found."""

    def get(self) -> None:
        raise web.HTTPError(404)


class Status(_VisitorAPI):
    """``/api/status`` (the server's activity) is not a visitor's business; but thebe pings it
    before it starts, and must read the refusal (with its CORS headers) to go on."""

    def get(self) -> None:
        raise web.HTTPError(403, "this site's status is not public")


_SESSION_ID = r"(?P<session_id>\w+-\w+-\w+-\w+-\w+)"  # jupyter_server's own pattern
HANDLERS: list[tuple[str, type[web.RequestHandler]]] = [
    (r"/api/kernels/?", VisitorKernelList),
    (r"/api/sessions/?", VisitorSessions),
    (rf"/api/sessions/{_SESSION_ID}", VisitorSession),
    (r"/api/status", Status),
    (r"/metrics", Closed),
]
"""Registered in public mode ahead of jupyter_server's own handlers for the same paths."""
