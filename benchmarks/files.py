"""A large file of the served folder, fetched by several readers at once: the server's peak
memory, ``livecells serve`` (``/livecells/FILE``, sent in 64 KiB chunks) against a stock
``jupyter server`` (``/files/FILE``, tornado's StaticFileHandler, which streams), both with
the same token, on loopback, in the same run.

    python benchmarks/files.py [--megabytes 200] [--readers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.load import rss_mb
from tests.conftest import JupyterServer, start_jupyter_server, start_livecells_serve


async def fetch_all(url: str, token: str, readers: int) -> int:
    async def one(client: httpx.AsyncClient) -> int:
        received = 0
        async with client.stream("GET", url, headers={"Authorization": f"token {token}"}) as r:
            assert r.status_code == 200, r.status_code
            async for chunk in r.aiter_bytes():
                received += len(chunk)
        return received

    async with httpx.AsyncClient(timeout=300) as client:
        return sum(await asyncio.gather(*(one(client) for _ in range(readers))))


def measure(name: str, server: JupyterServer, path: str, readers: int) -> tuple[float, float]:
    pid = server.process.pid
    before = rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # every 10 ms: a transfer on loopback takes well under a second
        while not done.wait(0.01):
            peak[0] = max(peak[0], rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    received = asyncio.run(fetch_all(f"{server.url}{path}", server.token, readers))
    took = time.perf_counter() - began
    done.set()
    sampler.join()
    growth = peak[0] - before
    print(
        f"{name:<30} {received / 2**20:7.0f} MB in {took:5.1f} s  server RSS {before:5.0f} -> "
        f"peak {peak[0]:5.0f} MB (+{growth:.0f} MB)"
    )
    return growth, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--readers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "site"
        root.mkdir()
        (root / "index.md").write_text("# A page\n")
        with (root / "big.bin").open("wb") as sink:
            for _ in range(args.megabytes):
                sink.write(bytes(range(256)) * 4096)
        print(f"{args.readers} readers at once, a {args.megabytes} MB file, loopback")
        stock = start_jupyter_server(root)
        try:
            peer = measure("jupyter server /files/", stock, "files/big.bin", args.readers)
        finally:
            stock.stop()
        ours = start_livecells_serve(root)
        try:
            mine = measure("livecells serve /livecells/", ours, "livecells/big.bin", args.readers)
        finally:
            ours.stop()
        print(
            f"server memory growth: livecells {mine[0]:+.0f} MB, jupyter server {peer[0]:+.0f} MB;"
            f" time: livecells / jupyter server = {mine[1] / peer[1]:.2f}x"
        )


if __name__ == "__main__":
    main()
