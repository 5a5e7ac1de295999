"""A local stand-in for a BinderHub (mybinder.org cannot be reached from here).

It answers BinderHub's build API with the real event-stream format: ``GET /build/{provider}/
{spec}`` streams ``data:`` events through the phases ``waiting``, ``fetching``, ``building``
(with log lines), ``launching`` and ``ready`` (``url``, ``token``, ``image``), and hands out a
real ``jupyter server`` started on 127.0.0.1 for each launch. A spec containing ``fail`` ends in
``failed``. Every launch is recorded; the servers it started are stopped with it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import tornado.web
from tests.conftest import JupyterServer, start_jupyter_server
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets


@dataclass
class StandInBinderHub:
    root: Path
    url: str = ""
    launches: list[str] = field(default_factory=list)
    servers: list[JupyterServer] = field(default_factory=list)


class BuildHandler(tornado.web.RequestHandler):
    def initialize(self, hub: StandInBinderHub) -> None:
        self.hub = hub

    def set_default_headers(self) -> None:
        self.set_header("Access-Control-Allow-Origin", "*")  # pages call it cross-origin

    async def event(self, **event: object) -> None:
        self.write(f"data: {json.dumps(event)}\n\n")
        await self.flush()

    async def get(self, provider: str, spec: str) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.hub.launches.append(f"{provider}/{spec}")
        await self.event(phase="waiting", message="Waiting for build to start...\n")
        await self.event(phase="fetching", message=f"Fetching {spec}...\n")
        if "fail" in spec:
            await self.event(phase="failed", message="Error: repository not found\n")
            return
        await self.event(phase="building", message="Step 1/2 : FROM python:3.11\n")
        await self.event(phase="building", message="Step 2/2 : RUN pip install ipykernel\n")
        await self.event(phase="launching", message="Launching server...\n")
        server = await asyncio.to_thread(
            start_jupyter_server, self.hub.root, "--ServerApp.allow_origin=*"
        )
        self.hub.servers.append(server)
        await self.event(
            phase="ready",
            message=f"server running at {server.url}\n",
            url=server.url,
            token=server.token,
            image="standin/image:latest",
        )


@contextmanager
def standin_binderhub(root: Path) -> Iterator[StandInBinderHub]:
    """Run the stand-in on a free 127.0.0.1 port (in a thread) until the block ends."""
    hub = StandInBinderHub(root)
    ready = threading.Event()
    state: dict[str, object] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = tornado.web.Application([(r"/build/([^/]+)/(.+)", BuildHandler, {"hub": hub})])
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTPServer(app)
        server.add_sockets(sockets)
        hub.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
        state["loop"], state["server"] = loop, server
        ready.set()
        loop.run_forever()
        server.stop()
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield hub
    finally:
        loop = state["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for server in hub.servers:
            server.stop()
