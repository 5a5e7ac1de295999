"""Runtime ``local``: kernelspecs, start-up failures and timeouts, with real processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import livecells
from livecells import ExecutionTimeout, KernelDied, KernelNotFound, Status
from livecells.runtimes.local import LocalKernel


@pytest.fixture
def broken_kernelspecs(tmp_path: Path) -> Iterator[None]:
    """Two kernelspecs that never become ready: one hangs, one exits at once."""
    kernels = tmp_path / "kernels"
    for name, argv in {
        "hangs": [sys.executable, "-c", "import time; time.sleep(120)", "{connection_file}"],
        "exits": [sys.executable, "-c", "raise SystemExit(3)", "{connection_file}"],
    }.items():
        (kernels / name).mkdir(parents=True)
        spec = {"argv": argv, "display_name": name, "language": "python"}
        (kernels / name / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(tmp_path), old]))
    yield
    os.environ["JUPYTER_PATH"] = old


async def test_unknown_kernel_name_lists_installed_kernelspecs() -> None:
    with pytest.raises(KernelNotFound, match=r"no kernelspec named 'cobol'.*python3"):
        async with livecells.connect("local", kernel_name="cobol"):
            pass


@pytest.mark.usefixtures("broken_kernelspecs")
async def test_kernel_that_never_answers_times_out_with_advice() -> None:
    statuses: list[Status] = []
    kernel = livecells.connect(
        "local",
        kernel_name="hangs",
        startup_timeout=2,
        on_status=lambda status, detail: statuses.append(status),
    )
    with pytest.raises(ExecutionTimeout, match="did not answer within 2 s"):
        await kernel.start()
    assert statuses[-1] == Status.ERROR


@pytest.mark.usefixtures("broken_kernelspecs")
async def test_kernel_that_exits_at_start_fails_fast() -> None:
    kernel = livecells.connect("local", kernel_name="exits", startup_timeout=60)
    with pytest.raises(KernelDied, match="exited"):
        await kernel.start()


async def test_lifecycle_goes_connecting_starting_ready() -> None:
    seen: list[Status] = []
    async with livecells.connect(
        "local", on_status=lambda status, detail: seen.append(status)
    ) as kernel:
        await kernel.execute("1")
    assert seen[:2] == [Status.CONNECTING, Status.STARTING]
    assert Status.READY in seen
    assert seen[-1] == Status.DEAD


async def test_shutdown_is_idempotent_and_later_executes_fail_clearly() -> None:
    kernel = livecells.connect("local")
    await kernel.start()
    await kernel.shutdown()
    await kernel.shutdown()
    with pytest.raises(KernelDied, match="shut down"):
        await kernel.execute("1")


async def test_restart_after_death_brings_the_kernel_back() -> None:
    async with livecells.connect("local") as kernel:
        with pytest.raises(KernelDied):
            await kernel.execute("import os; os._exit(0)")
        assert kernel.status == Status.DEAD
        await kernel.restart()
        assert (await kernel.execute("'again'")).status == "ok"


async def test_kernels_started_together_in_other_directories_keep_their_own_sockets(
    tmp_path: Path,
) -> None:
    """Over IPC, jupyter_client names sockets relative to the current directory; kernels
    started at once with another ``cwd`` each still reach their own kernel."""
    directories = [tmp_path / name for name in ("a", "b", "c")]
    kernels = []
    for directory in directories:
        directory.mkdir()
        kernels.append(livecells.connect("local", kernel_name="python3", cwd=str(directory)))
    try:
        await asyncio.gather(*(kernel.start() for kernel in kernels))
        results = await asyncio.gather(
            *(kernel.execute("import os; print(os.getcwd())") for kernel in kernels)
        )
        assert [result.stdout.strip() for result in results] == [str(d) for d in directories]
    finally:
        await asyncio.gather(*(kernel.shutdown() for kernel in kernels))
    assert not [path for path in tmp_path.rglob("*") if "kernel-" in path.name]  # noqa: ASYNC240


async def test_a_kernel_is_ready_only_once_its_stdin_is_connected() -> None:
    """The kernel's stdin ROUTER drops an input_request sent before our DEALER's handshake; so
    readiness waits for it, at start and after a restart, and input() right away is answered."""
    async with livecells.connect("local", kernel_name="python3") as kernel:
        assert isinstance(kernel, LocalKernel)
        assert kernel._stdin_connected.is_set()
        first = await kernel.execute("print(input('a? '))", on_input=lambda p, pw: "1")
        await kernel.restart()
        assert kernel._stdin_connected.is_set()
        second = await kernel.execute("print(input('b? '))", on_input=lambda p, pw: "2")
    assert [first.outputs[-1]["text"], second.outputs[-1]["text"]] == ["1\n", "2\n"]
