"""Runtime ``server`` against Jupyter Kernel Gateway, started on 127.0.0.1 by the test."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import free_port
from tests.runtimes.conftest import interrupt_busy_loop

import livecells
from livecells import AuthenticationFailed


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    token, port = secrets.token_hex(8), free_port()
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    command = [
        sys.executable,
        "-m",
        "kernel_gateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        f"--KernelGatewayApp.auth_token={token}",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, Path(log).read_text()
            try:
                httpx.get(f"{url}api", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, token
    finally:
        process.terminate()
        process.wait(10)


async def test_kernel_gateway_runs_cells_and_interrupts(gateway: tuple[str, str]) -> None:
    url, token = gateway
    async with livecells.connect("server", url=url, token=token) as kernel:
        result = await kernel.execute("print('via gateway'); 2 + 2")
        assert [o["output_type"] for o in result.outputs] == ["stream", "execute_result"]
        interrupted = await interrupt_busy_loop(kernel)
        assert interrupted.outputs[-1]["ename"] == "KeyboardInterrupt"


async def test_kernel_gateway_refuses_a_wrong_token(gateway: tuple[str, str]) -> None:
    url, _ = gateway
    with pytest.raises(AuthenticationFailed):
        async with livecells.connect("server", url=url, token="wrong"):
            pass
