"""Median ``1+1`` round trip: livecells runtimes vs jupyter_client's AsyncKernelClient.

Runs, in one process and one run, on the same python3 kernelspec:

* ``jupyter_client``: AsyncKernelClient.execute_interactive on a kernel it started (the peer);
* ``livecells local``: ``livecells.connect("local")``;
* ``livecells server (stock)``: ``livecells.connect("server")`` to a stock ``jupyter server``,
  whose kernel WebSocket leaves Nagle's algorithm on;
* ``livecells server (nodelay)``: the same server with livecells' TCP_NODELAY connection class.

Prints medians, p90s and ratios against the peer. Usage: ``python benchmarks/roundtrip.py [-n N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

import livecells

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import start_jupyter_server

NODELAY_CLASS = "livecells.server.websocket.NoDelayWebsocketConnection"


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    for _ in range(10):  # warm up
        await call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def jupyter_client_peer(runs: int) -> list[float]:
    manager = AsyncKernelManager(kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        return await timed(
            lambda: client.execute_interactive("1+1", output_hook=lambda msg: None), runs
        )
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def livecells_runtime(runs: int, runtime: str, **options: object) -> list[float]:
    async with livecells.connect(runtime, kernel_name="python3", **options) as kernel:
        return await timed(lambda: kernel.execute("1+1"), runs)


def nodelay_available() -> bool:
    module, _, name = NODELAY_CLASS.rpartition(".")
    try:
        return hasattr(__import__(module, fromlist=[name]), name)
    except ImportError:
        return False


async def main(runs: int) -> None:
    results: dict[str, list[float]] = {}
    results["jupyter_client AsyncKernelClient (peer)"] = await jupyter_client_peer(runs)
    results["livecells local"] = await livecells_runtime(runs, "local")
    with tempfile.TemporaryDirectory() as root:
        servers = {"stock": ()}
        if nodelay_available():
            servers["nodelay"] = (f"--ServerApp.kernel_websocket_connection_class={NODELAY_CLASS}",)
        for label, flags in servers.items():
            server = start_jupyter_server(Path(root), *flags)
            try:
                results[f"livecells server ({label})"] = await livecells_runtime(
                    runs, "server", url=server.url, token=server.token
                )
            finally:
                server.stop()
    peer = statistics.median(results["jupyter_client AsyncKernelClient (peer)"])
    print(f"1+1 round trip, {runs} runs each, milliseconds")
    print(f"{'client':45} {'median':>8} {'p90':>8} {'ratio vs peer':>14}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:45} {median:8.2f} {p90:8.2f} {median / peer:13.2f}x")
    if "livecells server (nodelay)" in results:
        stock = statistics.median(results["livecells server (stock)"])
        fast = statistics.median(results["livecells server (nodelay)"])
        print(f"TCP_NODELAY speed-up on the server WebSocket: {stock / fast:.1f}x")
    else:
        print(f"(nodelay variant skipped: {NODELAY_CLASS} not importable)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=200)
    asyncio.run(main(parser.parse_args().runs))
