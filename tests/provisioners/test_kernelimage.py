"""Kernels forked from a kernel image (:mod:`livecells.provisioners.kernelimage`): each is a
kernel of its own, sees the environment as it is now, and dies with its manager. The Kernel
contract itself runs on forked kernels in tests/runtimes/test_contract.py (``local``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tests.runtimes.conftest import interrupt_busy_loop
from tests.test_execute import code, new_notebook, texts, write

import livecells
from livecells.cli import main
from livecells.provisioners import kernelimage
from livecells.runtimes.local import LocalKernel


async def value(kernel: Any, expression: str) -> Any:
    """``expression`` evaluated in the kernel, back through JSON."""
    result = await kernel.execute(f"import json, os, sys; print(json.dumps({expression}))")
    assert result.status == "ok", result.outputs
    return json.loads("".join(output.get("text", "") for output in result.outputs))


def forked(kernel: Any) -> bool:
    return bool(getattr(kernel.manager.provisioner, "forked", False))


async def test_forked_kernels_share_no_state(tmp_path: Path) -> None:
    async with livecells.connect("local") as first, livecells.connect("local") as second:
        assert forked(first) and forked(second)
        opened = tmp_path / "held.txt"
        await first.execute(
            f"import json, sys, random; json.leaked = 1; held = open({str(opened)!r}, 'w')\n"
            "sys.path.insert(0, '/nowhere'); import os; os.environ['LEAKED'] = '1'"
        )
        seen = await value(
            second,
            "[hasattr(json, 'leaked'), '/nowhere' in sys.path, 'LEAKED' in os.environ,"
            f" any(os.path.realpath('/proc/self/fd/' + fd) == {str(opened)!r}"
            " for fd in os.listdir('/proc/self/fd'))]",
        )
        assert seen == [False, False, False, False]
        pids = [await value(kernel, "os.getpid()") for kernel in (first, second)]
        assert pids == [first.manager.provisioner.pid, second.manager.provisioner.pid]
        assert pids[0] != pids[1]
        draws = [await value(kernel, "__import__('random').random()") for kernel in (first, second)]
        assert draws[0] != draws[1]
        tokens = [await value(k, "__import__('secrets').token_hex(8)") for k in (first, second)]
        assert tokens[0] != tokens[1]


async def test_forked_kernel_is_told_apart_from_a_cold_one_by_nothing_it_reports() -> None:
    async with (
        livecells.connect("local") as warm,
        livecells.connect("local", kernel_image=False) as cold,
    ):
        assert forked(warm) and not forked(cold)
        assert warm.kernel_info["language_info"] == cold.kernel_info["language_info"]
        assert warm.kernel_info["implementation"] == cold.kernel_info["implementation"]
        probe = (
            "[sys.argv[1:2], sys.path == [p for p in sys.path], __name__,"
            " sorted(k for k in get_ipython().user_ns if not k.startswith('_')),"
            " os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid(),"
            " __import__('signal').getsignal(2).__name__]"
        )
        setup = "import os, sys"
        await warm.execute(setup)
        await cold.execute(setup)
        assert await value(warm, probe) == await value(cold, probe)
        paths = [await value(kernel, "sys.path") for kernel in (warm, cold)]
        assert paths[0] == paths[1]


async def test_each_forked_kernel_has_its_own_cwd_env_and_rlimits(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with livecells.connect("local") as before:  # the image starts with our limits
        assert forked(before)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1000), hard))
    try:
        env = {**os.environ, "LIVECELLS_TEST_MARK": "a"}
        async with livecells.connect("local", cwd=str(tmp_path / "a"), env=env) as kernel:
            assert forked(kernel)
            seen = await value(
                kernel,
                "[os.getcwd(), os.environ.get('LIVECELLS_TEST_MARK'),"
                " list(__import__('resource').getrlimit(__import__('resource').RLIMIT_NOFILE))]",
            )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert seen == [str(tmp_path / "a"), "a", [min(soft, 1000), hard]]


@pytest.fixture
def user_site(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """An environment whose user site folder (processes ``.pth`` files) is ours to change."""
    base = tmp_path / "userbase"
    env = {**os.environ, "PYTHONUSERBASE": str(base)}
    site_dir = subprocess.run(
        [sys.executable, "-c", "import site; print(site.getusersitepackages())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site_dir).mkdir(parents=True)
    yield env, Path(site_dir)


async def test_a_package_installed_after_the_image_started_is_seen_by_the_next_kernel(
    tmp_path: Path, user_site: tuple[dict[str, str], Path]
) -> None:
    env, site_dir = user_site
    async with livecells.connect("local", env=env) as first:
        assert forked(first)
        image = await value(first, "os.getppid()")
        assert await value(first, "__import__('importlib.util').util.find_spec('lc_late')") is None
    again = LocalKernel(env=env)
    async with again:
        assert await value(again, "os.getppid()") == image  # nothing changed: the same image
    # Installed as pip installs a path: a .pth in site-packages, read only at start.
    package = tmp_path / "late"
    package.mkdir()
    (package / "lc_late.py").write_text("ANSWER = 42\n")
    (site_dir / "lc_late.pth").write_text(f"{package}\n")
    async with livecells.connect("local", env=env) as second:
        assert forked(second)
        assert await value(second, "__import__('lc_late').ANSWER") == 42
        assert await value(second, "os.getppid()") != image


async def test_a_kernelspec_of_the_same_python_with_message_interrupts_is_forked(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "kernels" / "py-message"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": argv, "display_name": "m", "language": "python", "interrupt_mode": "message"}
        )
    )
    old = os.environ.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(tmp_path), old]))
    try:
        async with livecells.connect("local", kernel_name="py-message") as kernel:
            assert forked(kernel)
            result = await interrupt_busy_loop(kernel)
            assert result.status == "error"
            assert result.outputs[-1]["ename"] == "KeyboardInterrupt"
            assert await value(kernel, "'alive'") == "alive"
    finally:
        os.environ["JUPYTER_PATH"] = old


async def test_bash_kernel_starts_cold_and_works() -> None:
    async with livecells.connect("local", kernel_name="bash") as bash:
        assert not forked(bash)
        result = await bash.execute("echo $((6 * 7))")
        assert "".join(o.get("text", "") for o in result.outputs) == "42\n"


async def test_environment_switch_turns_the_image_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVECELLS_KERNEL_IMAGE", "0")
    async with livecells.connect("local") as kernel:
        assert not forked(kernel)
        assert await value(kernel, "1 + 1") == 2


MANAGER = textwrap.dedent(
    """
    import asyncio, sys
    import livecells

    async def main():
        kernel = livecells.connect("local")
        await kernel.start()
        assert kernel.manager.provisioner.forked
        print(kernel.manager.provisioner.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_a_forked_kernel_dies_with_the_process_that_started_it() -> None:
    manager = subprocess.Popen(
        [sys.executable, "-c", MANAGER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert manager.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(manager.stdout.readline), 60)
        pid = int(line)
        pidfd = os.pidfd_open(pid)
    finally:
        manager.kill()
        manager.wait()
    try:  # a pidfd turns readable when its process has exited
        loop = asyncio.get_running_loop()
        gone = loop.create_future()
        loop.add_reader(pidfd, lambda: gone.done() or gone.set_result(None))
        try:
            await asyncio.wait_for(gone, 20)
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)
        with contextlib.suppress(ProcessLookupError):  # a kernel left behind by a failure
            os.kill(pid, signal.SIGKILL)


async def test_kernels_started_together_share_one_image(
    user_site: tuple[dict[str, str], Path],
) -> None:
    env, _ = user_site  # an environment no image was built for yet
    kernels = [LocalKernel(env=env) for _ in range(3)]
    await asyncio.gather(*(kernel.start() for kernel in kernels))
    try:
        assert all(forked(kernel) for kernel in kernels)
        parents = {await value(kernel, "os.getppid()") for kernel in kernels}
        assert len(parents) == 1 and os.getpid() not in parents
    finally:
        await asyncio.gather(*(kernel.shutdown() for kernel in kernels))


@pytest.mark.parametrize(("flags", "forked_run"), [((), True), (("--no-kernel-image",), False)])
def test_livecells_run_forks_its_kernels_unless_told_not_to(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    forked_run: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "nb.ipynb",
        new_notebook(code(f"import os; print(os.getppid() != {os.getpid()})")),
    )
    assert main(["run", "nb.ipynb", *flags]) == 0
    executed = nbformat.read(tmp_path / "executed" / "nb.ipynb", as_version=4)
    assert texts(executed.cells[0]) == f"{forked_run}\n"


async def test_an_image_that_would_fork_threads_is_refused_and_kernels_start_cold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    startup = tmp_path / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    )
    path = os.pathsep.join(filter(None, [str(startup), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    for _ in range(2):  # the second start does not try that image again
        async with livecells.connect("local", env=env) as kernel:
            assert not forked(kernel)
            assert await value(kernel, "__import__('threading').active_count() > 1") is True
    refused = [r.getMessage() for r in caplog.records if "kernel image" in r.getMessage()]
    assert len(refused) == 2
    assert "an import started a thread" in refused[0]
    assert "failed to start before" in refused[1]


@pytest.mark.parametrize(
    "request_text",
    [b"not json", b'{"argv": ["/bin/sh", "-c", "id"], "cwd": "/"}', b'{"cwd": "/"}'],
)
async def test_the_image_refuses_a_bad_request_in_one_line_and_keeps_forking(
    request_text: bytes,
) -> None:
    async with livecells.connect("local") as first:
        image_pid = await value(first, "os.getppid()")
    [image] = [i for i in kernelimage._REGISTRY.images.values() if i.process.pid == image_pid]
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours:
        try:
            socket.send_fds(image.control, [request_text], [theirs.fileno(), 0, 1, 2])
        finally:
            theirs.close()
        ours.settimeout(10)
        reply = json.loads(ours.recv(65536))
    assert list(reply) == ["error"] and "\n" not in reply["error"]
    async with livecells.connect("local") as second:
        assert forked(second)
        assert await value(second, "os.getppid()") == image_pid


@pytest.fixture
def descriptors_past_select() -> Iterator[None]:
    """This process holding descriptors up to past 1023 (as a server holding many kernels and
    connections does), so the next ones opened (an image's control socket, kernels' pidfds
    and connections) are numbered above what ``select`` takes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard == resource.RLIM_INFINITY or hard >= 1500, f"RLIMIT_NOFILE hard limit {hard}"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1500), hard))
    held: list[int] = []
    try:
        while not held or held[-1] < 1100:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_kernels_restart_again_and_again_when_descriptors_pass_1023(
    descriptors_past_select: None,
) -> None:
    # A PYTHON* variable of its own: a new image, started while the descriptors are held.
    env = {**os.environ, "PYTHONLIVECELLSTESTFDS": "1"}
    async with livecells.connect("local", env=env) as kernel:
        provisioner = kernel.manager.provisioner
        assert forked(kernel) and provisioner._pidfd > 1023
        for _ in range(8):
            assert (await asyncio.wait_for(kernel.execute("y = 1"), 30)).status == "ok"
            interrupted = await interrupt_busy_loop(kernel)
            assert [output.get("ename") for output in interrupted.outputs][-1:] == [
                "KeyboardInterrupt"
            ]
            before = await value(kernel, "os.getpid()")
            await asyncio.wait_for(kernel.restart(), 30)
            assert forked(kernel) and provisioner._pidfd > 1023
            result = await asyncio.wait_for(kernel.execute("y"), 30)
            assert [output.get("ename") for output in result.outputs] == ["NameError"]
            assert await value(kernel, "os.getpid()") != before


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def test_a_socket_reusing_a_released_kernels_descriptor_is_still_watched() -> None:
    """A kernel released while the image's exit report is awaited (a restart after its kill
    timed out): its connection's descriptor is reused by the next socket opened, which the
    event loop must still watch (the next fork waits on it) once the old watch is gone."""
    manager = kernelimage.ImageKernelManager(kernel_name="python3")
    await manager.start_kernel()
    provisioner: Any = manager.provisioner
    assert provisioner.forked
    image = parent_of(provisioner.pid)
    os.kill(image, signal.SIGSTOP)  # the kernel's exit goes unreported
    try:
        os.kill(provisioner.pid, signal.SIGKILL)
        deadline = asyncio.get_running_loop().time() + 20
        while provisioner._collector is None:  # the exit seen: its report awaited
            assert asyncio.get_running_loop().time() < deadline, "the kernel's exit went unseen"
            await asyncio.sleep(0.01)
        await provisioner.cleanup()
        # Opened in the same step, as the next fork's socket is: the lowest free numbers.
        pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            for end in pair:
                end.send(b"x")
            watches = asyncio.gather(*(kernelimage._readable(end.fileno()) for end in pair))
            await asyncio.wait_for(watches, 5)
            assert [end.recv(1) for end in pair] == [b"x", b"x"]
        finally:
            for end in pair:
                end.close()
    finally:
        os.kill(image, signal.SIGCONT)
        await manager.cleanup_resources()
