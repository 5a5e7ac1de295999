"""Fixtures for the Kernel contract: one kernel per runtime, and a TCP proxy we can cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tests.conftest import JupyterServer
from tests.tcpproxy import TcpProxy, tcp_proxy

import livecells
from livecells.runtimes.base import ExecutionResult, Kernel


def kernel_options(runtime: str, server: JupyterServer, **extra: Any) -> dict[str, Any]:
    if runtime == "server":
        return {"url": server.url, "token": server.token, **extra}
    return extra


@pytest.fixture(params=["local", "local-cold", "server"])
async def kernel(
    request: pytest.FixtureRequest, jupyter_server: JupyterServer
) -> AsyncIterator[Kernel]:
    """A python3 kernel on each runtime; every contract test runs against each. ``local`` is
    forked from a kernel image (the default), ``local-cold`` is started as a new process."""
    runtime, _, mode = request.param.partition("-")
    options = kernel_options(runtime, jupyter_server, kernel_name="python3")
    if runtime == "local":
        options["kernel_image"] = mode != "cold"
    async with livecells.connect(runtime, **options) as started:
        if runtime == "local":
            provisioner = started.manager.provisioner  # type: ignore[attr-defined]
            assert getattr(provisioner, "forked", False) is (mode != "cold")
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


@pytest.fixture
def proxy(jupyter_server: JupyterServer) -> Iterator[TcpProxy]:
    with tcp_proxy(jupyter_server.port) as running:
        yield running
