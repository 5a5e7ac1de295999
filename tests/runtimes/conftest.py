"""Fixtures for the Kernel contract: one kernel per runtime, and a TCP proxy we can cut."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.conftest import JupyterServer

import livecells
from livecells.runtimes.base import ExecutionResult, Kernel


def kernel_options(runtime: str, server: JupyterServer, **extra: Any) -> dict[str, Any]:
    if runtime == "server":
        return {"url": server.url, "token": server.token, **extra}
    return extra


@pytest.fixture(params=["local", "server"])
async def kernel(
    request: pytest.FixtureRequest, jupyter_server: JupyterServer
) -> AsyncIterator[Kernel]:
    """A python3 kernel on each runtime; every contract test runs against both."""
    options = kernel_options(request.param, jupyter_server, kernel_name="python3")
    async with livecells.connect(request.param, **options) as started:
        yield started


async def interrupt_busy_loop(kernel: Kernel) -> ExecutionResult:
    """Start a ``while True`` cell, interrupt it once it is running, return its result."""
    started = asyncio.Event()
    task = asyncio.create_task(
        kernel.execute(
            "print('started', flush=True)\nwhile True:\n    pass",
            on_output=lambda output: started.set(),
        )
    )
    await asyncio.wait_for(started.wait(), 20)
    await kernel.interrupt()
    return await asyncio.wait_for(task, 20)


class CuttableProxy:
    """A real TCP proxy on 127.0.0.1 whose live connections can be cut, like a dropped network."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        """Abort every open connection (RST), as a network failure would."""
        self.cuts += 1
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(jupyter_server: JupyterServer) -> AsyncIterator[CuttableProxy]:
    cuttable = CuttableProxy(jupyter_server.port)
    await cuttable.start()
    yield cuttable
    await cuttable.close()
