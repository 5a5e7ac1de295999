"""Kernel start: jupyter_client's cold start against livecells' kernel image, same run.

For each start, the time from asking for a kernel to the ``execute_reply`` of
``x = os.getpid()`` (its first result), on the python3 kernelspec, ipc transport:

* ``jupyter_client cold`` (the peer): ``AsyncKernelManager.start_kernel``, a new process that
  imports IPython and ipykernel;
* ``jupyter_client + image``: the same manager code with livecells' ``KernelImageProvisioner``
  (``ImageKernelManager``): the kernel is forked from the image;
* ``livecells.connect("local")``, cold (``kernel_image=False``) and forked: the whole local
  runtime, its stdin handshake and kernel_info included.

Starts alternate between the kinds so that both see the same machine. CPU per start is the
kernel side's: for cold kernels the children's rusage of this process (a kernel is reaped here),
for forked ones the image's own CPU and that of the children it reaped (``/proc/PID/stat``).
The image's one-off build (its imports) is printed apart and not in the medians.

With ``--sandbox``, instead: ``livecells serve --public``'s kernels, through its manager
(``LimitedKernelManager``, bubblewrap, its default limits): each kernel cold in a bwrap sandbox
of its own (the peer, ``--no-kernel-image``) against each forked in the sandbox's template,
then making a sandbox of its own. CPU per start: every process under this one (bwrap, the
template, the kernel), sampled while it lives (a sandbox's processes are reaped inside it), less
what the template had used before.
Usage: ``python benchmarks/kernel_start.py [-n 20] [--sandbox]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import livecells
from livecells.provisioners import kernelimage
from livecells.provisioners.kernelimage import reconnect_quickly

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import CpuWatch

CODE = "import os; x = os.getpid()"
TICK = os.sysconf("SC_CLK_TCK")


def image_cpu() -> float:
    """CPU seconds of every image of this process, with the children each has reaped."""
    total = 0.0
    for image in kernelimage._REGISTRY.images.values():
        fields = Path(f"/proc/{image.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15]) / TICK  # utime stime cutime cstime
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def manager_start(manager_class: type[AsyncKernelManager], folder: str) -> float:
    """Seconds to the first result through jupyter_client's manager and client."""
    start = time.perf_counter()
    manager = manager_class(kernel_name="python3", transport="ipc")
    manager.ip = os.path.join(folder, f"k{time.monotonic_ns()}")
    return await first_result(manager, start)


async def first_result(manager: AsyncKernelManager, start: float, quick: bool = False) -> float:
    """Start ``manager``'s kernel, run CODE, shut it down: seconds from ``start`` to the reply
    (``quick``: the client's sockets retry after 10 ms, as the server's own do)."""
    await manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    if quick:
        reconnect_quickly(client.context)
    client.start_channels()
    try:
        msg_id = client.execute(CODE)
        while True:
            reply = await client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - start
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
    return elapsed


async def runtime_start(image: bool) -> float:
    """Seconds to the first result through ``livecells.connect("local")``."""
    start = time.perf_counter()
    async with livecells.connect("local", kernel_image=image) as kernel:
        result = await kernel.execute(CODE)
        elapsed = time.perf_counter() - start
        assert result.status == "ok"
    return elapsed


async def main(runs: int) -> None:
    folder = tempfile.mkdtemp(prefix="lc-bench-")
    built = time.perf_counter()
    await manager_start(kernelimage.ImageKernelManager, folder)  # builds the image
    print(f"image build + first forked kernel: {time.perf_counter() - built:.3f} s (not counted)")
    kinds = ["jupyter_client cold", "jupyter_client + image", "livecells cold", "livecells image"]
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, float] = {kind: 0.0 for kind in kinds}
    for _ in range(runs):
        for kind in kinds:
            before = children_cpu() + image_cpu()
            if kind.startswith("jupyter_client"):
                manager_class = (
                    kernelimage.ImageKernelManager if "image" in kind else AsyncKernelManager
                )
                times[kind].append(await manager_start(manager_class, folder))
            else:
                times[kind].append(await runtime_start("image" in kind))
            await asyncio.sleep(0.2)  # the image reaps its child and reports it
            cpu[kind] += children_cpu() + image_cpu() - before
    peer = statistics.median(times[kinds[0]])
    peer_cpu = cpu[kinds[0]] / runs
    print(f"{runs} starts each, time to the first result of {CODE!r}:")
    print(f"{'':26}{'median':>9}{'p90':>9}{'speed-up':>10}{'CPU/start':>11}{'CPU ratio':>11}")
    for kind in kinds:
        samples = sorted(times[kind])
        median = statistics.median(samples)
        p90 = samples[int(0.9 * (len(samples) - 1))]
        per_start = cpu[kind] / runs
        print(
            f"{kind:26}{median * 1000:7.1f}ms{p90 * 1000:7.1f}ms{peer / median:9.1f}x"
            f"{per_start * 1000:9.0f}ms{peer_cpu / per_start if per_start else 0:10.1f}x"
        )


async def sandboxed_start(image: bool) -> float:
    """Seconds to the first result of a ``--public`` kernel (bwrap), cold or forked."""
    from jupyter_core.paths import jupyter_runtime_dir

    from livecells.server.public import LimitedKernelManager

    start = time.perf_counter()
    os.makedirs(jupyter_runtime_dir(), exist_ok=True)
    name = f"kernel-bench-{time.monotonic_ns()}.json"
    manager = LimitedKernelManager(
        connection_file=os.path.join(jupyter_runtime_dir(), name),
        kernel_name="python3",
        sandbox=True,
        kernel_image=image,
    )
    return await first_result(manager, start, quick=True)


async def sandbox_main(runs: int) -> None:
    built = time.perf_counter()
    await sandboxed_start(True)  # builds the template
    took = time.perf_counter() - built
    print(f"template build + first forked kernel: {took:.3f} s (not counted)")
    kinds = ["bwrap cold (peer)", "forked in the template"]
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, float] = dict.fromkeys(kinds, 0.0)
    for _ in range(runs):
        for kind in kinds:
            watch = CpuWatch(os.getpid())  # a kernel's processes, sampled while they live
            times[kind].append(await sandboxed_start(kind.startswith("forked")))
            cpu[kind] += watch.stop() - watch.before

    peer, peer_cpu = statistics.median(times[kinds[0]]), cpu[kinds[0]] / runs
    print(f"{runs} sandboxed starts each (--public), time to the first result of {CODE!r}:")
    print(f"{'':26}{'median':>9}{'p90':>9}{'speed-up':>10}{'CPU/start':>11}{'CPU ratio':>11}")
    for kind in kinds:
        samples = sorted(times[kind])
        median, p90 = statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]
        per_start = cpu[kind] / runs
        print(
            f"{kind:26}{median * 1000:7.1f}ms{p90 * 1000:7.1f}ms{peer / median:9.1f}x"
            f"{per_start * 1000:9.0f}ms{peer_cpu / per_start if per_start else 0:10.1f}x"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="starts of each kind (default 20)")
    parser.add_argument("--sandbox", action="store_true", help="--public's sandboxed kernels")
    args = parser.parse_args()
    asyncio.run(sandbox_main(args.n) if args.sandbox else main(args.n))
