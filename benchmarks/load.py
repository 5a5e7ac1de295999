"""Many visitors at once: ``livecells serve --public`` against a stock ``jupyter server``.

In one run, on loopback, each of N concurrent clients starts a kernel of its own and runs 20
cells one after another over the kernel WebSocket:

* ``jupyter server`` (the peer): stock, one shared token, as a public site without livecells
  would be run;
* ``livecells --public``: anonymous visitors (cookie + _xsrf, no token), limits on, no pool.

Prints p50/p99 cell latency, first-cell latency (kernel start included), failures, the peak
RSS of the server process and the peak PSS of all its kernels (shared pages counted once). Then
first-cell latency for visitors arriving one at a time, with and without the warm pool. Then,
with ``--ladder``, the largest N livecells holds (every visitor runs all cells) up to
``--visitors``.

Then the sandbox's cost (``--sandbox bwrap`` against ``--sandbox none``, the peer, in the same
run, kernels started cold in both): kernel start (first cell of a visitor arriving alone, no
pool) and the CPU a kernel's start, first cell and shutdown take (the server's reaped
children), then cell p50/p99 at 10 and 50 concurrent visitors. The goal: a cost of 10 % or
less.

With ``--kernel-image``, instead: the kernel image's effect on ``livecells serve`` (token; with
``--public`` too, ``livecells serve --public``, whose kernels are forked in their sandbox's
template): N concurrent clients on a server forking python3 kernels from its image against the
same server with ``--no-kernel-image`` (the peer), in the same run, alternating ``--rounds``
times; with ``--public``, a stock ``jupyter server`` in each round too.

Bounded: every wait has a timeout, and the script stops its servers and kernels itself.
Usage: ``python benchmarks/load.py [--visitors 50] [--cells 20] [--ladder] [--sandbox-only]
[--kernel-image [--public] [--rounds N]]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import JupyterServer, start_jupyter_server, start_livecells_serve

PAGE = "```{code-cell} python\nprint('hello')\n```\n"
TIMEOUT = 180.0


@dataclass
class Result:
    first_cell: list[float] = field(default_factory=list)
    cells: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def rss_mb(pid: int, field: str = "VmRSS:", where: str = "status") -> float:
    """Resident memory of a process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/{where}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """A process's share of resident memory, in MB: each page shared by n processes counts
    1/n (forked kernels share the image's pages, which their RSS would count once each)."""
    return rss_mb(pid, "Pss:", "smaps_rollup")


def descendants(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, found):
            children += [child, *descendants(child)]
    return children


class MemoryWatch:
    """Peak RSS of a server process and peak PSS of its kernels, sampled every 0.5 s."""

    def __init__(self, pid: int) -> None:
        self.pid, self.server, self.kernels = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.server = max(self.server, rss_mb(self.pid))
            self.kernels = max(self.kernels, sum(pss_mb(p) for p in descendants(self.pid)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def visitor(server: JupyterServer, cells: int, public: bool, result: Result) -> None:
    # Each visitor from an address of its own (the server trusts X-Forwarded-For, as behind a
    # proxy): the public server's limits bind addresses as well as cookies.
    address = {"X-Forwarded-For": f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.1"}
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT, headers=address) as http:
        headers: dict[str, str] = {}
        if public:
            await http.get("livecells/")  # the visitor cookie and _xsrf
            headers = {"X-XSRFToken": http.cookies.get("_xsrf", ""), "Origin": server.url[:-1]}
        else:
            headers = {"Authorization": f"token {server.token}"}
        began = time.perf_counter()
        response = await http.post("api/kernels", json={"name": "python3"}, headers=headers)
        if response.status_code != 201:
            result.failures.append(f"{response.status_code} {response.text[:120]}")
            return
        kernel = response.json()["id"]
        url = server.url.replace("http", "ws", 1) + f"api/kernels/{kernel}/channels"
        url += f"?session_id={uuid.uuid4().hex}"
        ws_headers = {"Origin": server.url[:-1]} | address
        if public:
            ws_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        else:
            url += f"&token={server.token}"
        try:
            async with websockets.connect(
                url, additional_headers=ws_headers, max_size=None, open_timeout=TIMEOUT
            ) as ws:
                for index in range(cells):
                    start = time.perf_counter()
                    await execute(ws, f"x = {index}\nx * 2")
                    now = time.perf_counter()
                    if index == 0:
                        result.first_cell.append((now - began) * 1000)
                    else:
                        result.cells.append((now - start) * 1000)
        except Exception as exc:  # a benchmark counts failures instead of stopping
            result.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            await http.delete(f"api/kernels/{kernel}", headers=headers)


async def execute(ws: websockets.ClientConnection, code: str) -> None:
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "session": "bench"}
    header |= {"username": "", "version": "5.3", "date": ""}
    await ws.send(
        json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {"code": code, "silent": False, "allow_stdin": False},
            }
        )
    )
    replied = idle = False
    while not (replied and idle):
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        if isinstance(raw, bytes):
            continue
        msg = json.loads(raw)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        replied = replied or kind == "execute_reply"
        idle = idle or (kind == "status" and msg["content"]["execution_state"] == "idle")


def run_load(server: JupyterServer, visitors: int, cells: int, public: bool) -> Result:
    result = Result()

    async def everyone() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(visitor(server, cells, public, result) for _ in range(visitors))),
            TIMEOUT * 2,
        )

    try:
        asyncio.run(everyone())
    except TimeoutError:
        result.failures.append("the run did not finish in time")
    return result


def pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, result: Result, memory: MemoryWatch, visitors: int) -> None:
    held = visitors - len(result.failures)
    print(
        f"{name:<22} held {held:>3}/{visitors}  cell p50 {pct(result.cells, 0.5):7.2f} ms  "
        f"p99 {pct(result.cells, 0.99):7.2f} ms  first cell p50 "
        f"{pct(result.first_cell, 0.5):8.0f} ms  server RSS {memory.server:6.0f} MB  "
        f"kernels PSS {memory.kernels:7.0f} MB"
    )
    for failure in result.failures[:3]:
        print(f"    failure: {failure}")


def one_at_a_time(server: JupyterServer, arrivals: int, gap: float) -> list[float]:
    samples: list[float] = []
    for _ in range(arrivals):
        result = run_load(server, 1, 1, public=True)
        samples += result.first_cell
        time.sleep(gap)  # lets the pool refill, as spaced arrivals would
    return samples


def public_server(root: Path, visitors: int, pool: int, *flags: str) -> JupyterServer:
    return start_livecells_serve(
        root,
        "--public",
        f"--max-kernels={visitors + pool + 5}",
        "--max-kernels-per-visitor=1",
        "--kernel-starts-per-minute=60",
        f"--pool-size={pool}",
        "--trust-forwarded-headers",
        *flags,
    )


def cpu_seconds(pid: int) -> float:
    """CPU seconds a live process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """CPU seconds of a server's kernels (every process under it), sampled every 0.05 s: the
    last value seen per process, summed. (Reaped children's times do not serve: a sandbox's
    init reaps its kernel, and the server never sees those.)"""

    def __init__(self, pid: int) -> None:
        self.pid, self.seen = pid, dict[int, float]()
        self.before = sum(cpu_seconds(child) for child in descendants(pid))
        """What the processes already there had used (a long-lived one's past)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for child in descendants(self.pid):
                self.seen[child] = max(self.seen.get(child, 0.0), cpu_seconds(child))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.seen.values())


def sandbox_cost(root: Path, sizes: list[int], cells: int, starts: int) -> None:
    """``--sandbox bwrap`` against ``--sandbox none``, measured in turns on the same machine."""
    print(f"sandbox cost: --sandbox bwrap against --sandbox none (the peer), {cells} cells each")
    first: dict[str, list[float]] = {"none": [], "bwrap": []}
    cpu: dict[str, float] = {}
    cell: dict[tuple[str, int], Result] = {}
    visitor_cpu: dict[tuple[str, int], float] = {}  # server and kernels, per visitor
    for mode in ("none", "bwrap", "none", "bwrap"):  # twice each, interleaved: load drifts
        # Both cold: the sandbox's own cost (forking is load.py --kernel-image --public's).
        server = public_server(root, max(sizes), 0, f"--sandbox={mode}", "--no-kernel-image")
        try:
            watch = CpuWatch(server.process.pid)
            first[mode] += one_at_a_time(server, starts, 0.2)
            cpu[mode] = cpu.get(mode, 0.0) + watch.stop()
            for n in sizes:
                watch, own = CpuWatch(server.process.pid), cpu_seconds(server.process.pid)
                result = run_load(server, n, cells, public=True)
                used = watch.stop() + cpu_seconds(server.process.pid) - own
                visitor_cpu[(mode, n)] = visitor_cpu.get((mode, n), 0.0) + used / (2 * n)
                if (mode, n) in cell:
                    cell[(mode, n)].cells += result.cells
                    cell[(mode, n)].failures += result.failures
                else:
                    cell[(mode, n)] = result
        finally:
            server.stop()
    for mode in ("none", "bwrap"):
        print(
            f"  {mode:<5}: kernel start (first cell) p50 {statistics.median(first[mode]):6.0f} ms"
            f", CPU per kernel {cpu[mode] / (2 * starts) * 1000:5.0f} ms"
        )
    start_ratio = statistics.median(first["bwrap"]) / statistics.median(first["none"])
    cpu_ratio = cpu["bwrap"] / cpu["none"]
    print(f"  kernel start: bwrap / none = {start_ratio:.2f}x, CPU {cpu_ratio:.2f}x")
    for n in sizes:
        none, bwrap = cell[("none", n)].cells, cell[("bwrap", n)].cells
        p50, p99 = (pct(none, 0.5), pct(bwrap, 0.5)), (pct(none, 0.99), pct(bwrap, 0.99))
        failed = len(cell[("none", n)].failures), len(cell[("bwrap", n)].failures)
        print(
            f"  {n:>3} visitors: cell p50 {p50[0]:6.2f} / {p50[1]:6.2f} ms, p99 {p99[0]:7.2f} / "
            f"{p99[1]:7.2f} ms (none / bwrap): bwrap / none p50 {p50[1] / p50[0]:.2f}x, p99 "
            f"{p99[1] / p99[0]:.2f}x; failures {failed[0]} / {failed[1]}"
        )
        used = visitor_cpu[("none", n)], visitor_cpu[("bwrap", n)]
        print(
            f"  {n:>3} visitors: CPU per visitor (kernel start and {cells} cells, server "
            f"included) {used[0] * 1000:5.0f} / {used[1] * 1000:5.0f} ms: bwrap / none "
            f"{used[1] / used[0]:.2f}x"
        )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (wall times swing with it)")


def kernel_image_effect(root: Path, visitors: int, cells: int, rounds: int, public: bool) -> None:
    """First-cell and cell latency of N concurrent clients of ``livecells serve`` (with
    ``public``: ``--public``, sandboxed, no pool), kernels forked from the image against cold
    ones, alternating (so load on the machine falls on both alike); each round on a fresh
    server that has started one kernel before (the image's one-off build, ~1 s of CPU, is not
    a visitor's). With ``public``, a stock ``jupyter server`` too, in the same run."""
    what = "livecells serve --public" if public else "livecells serve"
    print(f"{visitors} concurrent clients of {what}, {cells} cells each, loopback")
    kinds = {"cold (--no-kernel-image)": ("--no-kernel-image",), "kernel image": ()}
    first: dict[str, list[float]] = {name: [] for name in kinds}
    cell: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, float] = dict.fromkeys(kinds, 0.0)
    stock_first: list[float] = []
    for _ in range(rounds):
        if public:
            stock = start_jupyter_server(root)
            try:
                memory = MemoryWatch(stock.process.pid)
                peer = run_load(stock, visitors, cells, public=False)
                memory.stop()
            finally:
                stock.stop()
            report("jupyter server (token)", peer, memory, visitors)
            stock_first += peer.first_cell
        for name, flags in kinds.items():
            if public:
                server = public_server(root, visitors, 0, *flags)
            else:
                server = start_livecells_serve(root, *flags)
            try:
                run_load(server, 1, 1, public=public)  # a kernel started before: the image built
                memory = MemoryWatch(server.process.pid)
                watch, own = CpuWatch(server.process.pid), cpu_seconds(server.process.pid)
                result = run_load(server, visitors, cells, public=public)
                cpu[name] += watch.stop() + cpu_seconds(server.process.pid) - own
                memory.stop()
            finally:
                server.stop()
            report(name, result, memory, visitors)
            first[name] += result.first_cell
            cell[name] += result.cells
    cold, warm = (statistics.median(first[name]) for name in kinds)
    cold_cell, warm_cell = (pct(cell[name], 0.5) for name in kinds)
    cold_cpu, warm_cpu = (cpu[name] / (rounds * visitors) * 1000 for name in kinds)
    print(
        f"first cell p50 over {rounds} rounds: cold {cold:.0f} ms, kernel image {warm:.0f} ms "
        f"({cold / warm:.1f}x faster); cell p50 cold {cold_cell:.2f} ms, "
        f"kernel image {warm_cell:.2f} ms; CPU per visitor (server and kernels) cold "
        f"{cold_cpu:.0f} ms, kernel image {warm_cpu:.0f} ms ({cold_cpu / warm_cpu:.1f}x less)"
    )
    if public:
        stock = statistics.median(stock_first)
        print(
            f"first cell p50: jupyter server {stock:.0f} ms, livecells --public with the "
            f"kernel image {warm:.0f} ms ({stock / warm:.1f}x faster)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (wall times swing with it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--ladder", action="store_true", help="also find the largest N held")
    parser.add_argument("--sandbox-only", action="store_true", help="only the sandbox's cost")
    parser.add_argument("--starts", type=int, default=5, help="kernel starts timed per turn")
    parser.add_argument(
        "--kernel-image", action="store_true", help="only the kernel image's effect on serve"
    )
    parser.add_argument("--rounds", type=int, default=1, help="--kernel-image: rounds of both")
    parser.add_argument(
        "--public", action="store_true", help="--kernel-image: of --public (sandboxed kernels)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        (root / "index.md").write_text(PAGE)
        if args.kernel_image:
            kernel_image_effect(root, args.visitors, args.cells, args.rounds, args.public)
            return
        if args.sandbox_only:
            sandbox_cost(root, [n for n in (10, 50) if n <= args.visitors], args.cells, args.starts)
            return
        print(f"{args.visitors} concurrent visitors, {args.cells} cells each, loopback")

        stock = start_jupyter_server(Path(tmp) / "site")
        try:
            memory = MemoryWatch(stock.process.pid)
            peer = run_load(stock, args.visitors, args.cells, public=False)
            memory.stop()
            report("jupyter server (token)", peer, memory, args.visitors)
        finally:
            stock.stop()

        mine = public_server(root, args.visitors, pool=0)
        try:
            memory = MemoryWatch(mine.process.pid)
            ours = run_load(mine, args.visitors, args.cells, public=True)
            memory.stop()
            report("livecells --public", ours, memory, args.visitors)
            cold = one_at_a_time(mine, 5, 0.5)
        finally:
            mine.stop()
        ratio = pct(peer.cells, 0.5) / pct(ours.cells, 0.5)
        print(f"cell latency p50: jupyter server / livecells --public = {ratio:.2f}x")

        pooled_server = public_server(root, 5, pool=2)
        try:
            time.sleep(8)  # the pool warms up
            warm = one_at_a_time(pooled_server, 5, 3.0)
        finally:
            pooled_server.stop()
        print(
            f"first cell, one visitor at a time: without pool {statistics.median(cold):.0f} ms, "
            f"with pool {statistics.median(warm):.0f} ms "
            f"({statistics.median(cold) / statistics.median(warm):.1f}x faster)"
        )

        if args.ladder:
            largest = 0
            for n in (10, 25, 50, 75, 100):
                if n > args.visitors:
                    break
                server = public_server(root, n, pool=0)
                try:
                    result = run_load(server, n, args.cells, public=True)
                finally:
                    server.stop()
                if result.failures:
                    print(f"N={n}: {len(result.failures)} failed ({result.failures[0]})")
                    break
                largest = n
            print(f"largest N held by livecells --public: {largest}")

        sandbox_cost(root, [n for n in (10, 50) if n <= args.visitors], args.cells, args.starts)


if __name__ == "__main__":
    main()
