"""The sandbox of ``livecells serve --public``: attacks from one visitor's kernel, against a
real server, with the sandbox (bwrap) and without it (``--sandbox none``).

Every attack is run both ways: without the sandbox it must succeed (so the test can fail), with
it it must not. Visitor A's code runs in a real ipykernel (from the warm pool); visitor B is
another browser on the same server. Each server gets a runtime folder of its own
(``JUPYTER_RUNTIME_DIR``), so without the sandbox A finds B there and no one else's kernels."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import (
    BWRAP_PROBLEM,
    JupyterServer,
    livecells_cli,
    start_livecells_serve,
)
from tests.server.test_public import PAGE, Visitor, text_of

from livecells.server import limits

MEMORY_MB = 1024
PROCESSES = 64
SECRET_VARIABLE = "LIVECELLS_TEST_API_TOKEN"
"""Set in each server's environment: a kernel must not inherit it."""
RUNTIME_DIRS: dict[int, str] = {}
"""Each server's runtime folder, by port."""


@pytest.fixture(scope="module", autouse=True)
def bwrap_present(pytestconfig: pytest.Config) -> None:
    problem = pytestconfig.stash.get(BWRAP_PROBLEM, None)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def serve(tmp_path_factory: pytest.TempPathFactory, *flags: str) -> JupyterServer:
    """``livecells serve --public`` with a runtime folder of its own (short: ipc paths)."""
    root = tmp_path_factory.mktemp("sandboxed")
    (root / "index.md").write_text(PAGE)
    # In /run where it may (as root): a folder the sandbox does not hide by itself, as /tmp and
    # the home folder are, so the test sees the runtime folder hidden for what it is.
    runtime = tempfile.mkdtemp(prefix="lcrt-", dir="/run" if os.access("/run", os.W_OK) else None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", runtime)
        patch.setenv(SECRET_VARIABLE, "s3cret")
        # Each Visitor comes from an address of its own (the limits bind addresses too).
        started = start_livecells_serve(
            root, "--public", "--pool-size=1", "--trust-forwarded-headers", *flags
        )
    RUNTIME_DIRS[started.port] = runtime
    return started


@pytest.fixture(scope="module", params=["bwrap", "bwrap-cold", "none"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    """Every attack against kernels forked in a sandbox's template (the default), kernels
    started cold each in a sandbox of its own (``--no-kernel-image``), and no sandbox."""
    sandbox, _, cold = request.param.partition("-")
    flags = [
        f"--sandbox={sandbox}",
        *(["--no-kernel-image"] if cold else []),
        f"--kernel-memory={MEMORY_MB}",
        f"--kernel-processes={PROCESSES}",
        "--max-kernels-per-visitor=3",
        "--kernel-starts-per-minute=20",
    ]
    started = serve(tmp_path_factory, *flags)
    yield started
    stop(started)


def stop(server: JupyterServer) -> None:
    server.stop()
    shutil.rmtree(RUNTIME_DIRS.pop(server.port), ignore_errors=True)


def sandboxed(server: JupyterServer) -> bool:
    return "--sandbox=bwrap" in server.process.args  # type: ignore[operator]


def forked(server: JupyterServer) -> bool:
    """Whether its kernels are forked in the sandbox's template (else cold, or no sandbox)."""
    return sandboxed(server) and "--no-kernel-image" not in server.process.args  # type: ignore[operator]


def runtime_dir(server: JupyterServer) -> str:
    return RUNTIME_DIRS[server.port]


def run_json(visitor: Visitor, kernel: str, code: str, timeout: float = 90) -> Any:
    """Run ``code`` (which prints one JSON line last) in the kernel; the JSON."""
    text = text_of(visitor.run(kernel, code, timeout))
    try:
        return json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError(f"the kernel said: {text}") from None


def host_processes(needle: str) -> list[int]:
    """This machine's processes whose command line contains ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# -- start-up ---------------------------------------------------------------------------------


def test_the_start_up_line_says_what_kernels_run_in(server: JupyterServer) -> None:
    log = server.log.read_text()
    if sandboxed(server):
        assert "livecells serve: kernels sandboxed by bubblewrap: own user, PID, IPC, UTS" in log
        assert "WARNING" not in log
    else:
        assert "livecells serve: WARNING: --sandbox none: every visitor's kernel runs" in log


def test_without_bwrap_public_serving_refuses_to_start_and_says_how(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text(PAGE)
    env = {**os.environ, "LIVECELLS_BWRAP": str(tmp_path / "no-bwrap")}
    for choice in ("auto", "bwrap"):
        done = livecells_cli("serve", str(tmp_path), "--public", f"--sandbox={choice}", env=env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == (
            f"livecells serve: error: --public needs a sandbox for visitors' kernels and "
            f"{tmp_path / 'no-bwrap'} not found: install bubblewrap (apt-get install "
            "bubblewrap) or pass --sandbox none to serve without one"
        )


@pytest.mark.timeout(200)
def test_a_kernel_memory_too_small_to_start_a_kernel_is_refused_with_the_measured_minimum(
    tmp_path: Path,
) -> None:
    (tmp_path / "index.md").write_text(PAGE)
    done = livecells_cli("serve", str(tmp_path), "--public", "--kernel-memory=300", timeout=170)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("livecells serve: error: --kernel-memory 300: a python3 kernel needs ")
    minimum = int(line.split(" needs ")[1].split(" MB")[0])
    measured = int(line.split("(measured ")[1].split(" MB")[0])
    assert minimum == measured + 64 and 300 < measured < 4096, line
    assert line.endswith(f"give --kernel-memory {minimum} or more")


def test_kernel_network_none_needs_the_sandbox(tmp_path: Path) -> None:
    flags = ["--public", "--sandbox=none", "--kernel-network=none"]
    done = livecells_cli("serve", str(tmp_path), *flags)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "livecells serve: error: --kernel-network none needs the sandbox: drop --sandbox none"
    )


def test_with_a_gateway_bwrap_and_kernel_network_are_refused(tmp_path: Path) -> None:
    for flag in ("--sandbox=bwrap", "--kernel-network=none"):
        flags = ["--public", "--gateway-url=http://127.0.0.1:9/", flag]
        done = livecells_cli("serve", str(tmp_path), *flags)
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "livecells serve: error: --sandbox bwrap and --kernel-network are for local kernels: "
            "with --gateway-url the gateway's containers are the sandbox (set their network there)"
        )


# -- what visitor A's kernel can reach --------------------------------------------------------


def test_a_pooled_kernel_is_sandboxed_too(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    seen = run_json(alice, kernel, "import os, json\nprint(json.dumps(os.getuid()))")
    assert f"kernel {kernel} (python3) for" in server.log.read_text()
    assert "from the pool" in server.log.read_text()
    assert seen == (65534 if sandboxed(server) else os.getuid())


def test_other_visitors_kernel_sockets_and_the_server_runtime_folder_are_out_of_reach(
    server: JupyterServer,
) -> None:
    alice, bob = Visitor(server), Visitor(server)
    his = bob.start_kernel()
    assert "ready" in text_of(bob.run(his, "print('ready')"))
    mine = alice.start_kernel()
    folder = runtime_dir(server)
    seen = run_json(
        alice,
        mine,
        f"import os, json\nfound = []\nfor d, _, files in os.walk({folder!r}):\n"
        "    found += [os.path.join(d, f) for f in files]\nprint(json.dumps(found))",
    )
    names = " ".join(seen)
    if sandboxed(server):
        # Only its own folder: its five sockets (k-N) and its own connection file until read.
        assert {os.path.dirname(path) for path in seen} == {os.path.dirname(seen[0])}
        sockets = {os.path.basename(path) for path in seen} - {"kernel.json"}
        assert len(sockets) == 5 and all(re.fullmatch(r"k-\d+", name) for name in sockets)
        assert his not in names and "jpserver" not in names and "cookie" not in names
    else:
        assert his in names and f"jpserver-{server.process.pid}.json" in names


def test_other_visitors_outputs_cannot_be_read_from_their_iopub_socket(
    server: JupyterServer,
) -> None:
    alice, bob = Visitor(server), Visitor(server)
    his, mine = bob.start_kernel(), alice.start_kernel()
    marker = uuid.uuid4().hex
    folder = runtime_dir(server)
    snoop = f"""
import os, json, stat, time, zmq
context = zmq.Context()
sub = context.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
for d, _, files in os.walk({folder!r}):
    for f in files:
        path = os.path.join(d, f)
        if stat.S_ISSOCK(os.stat(path).st_mode):
            sub.connect("ipc://" + path)
print("listening", flush=True)
got = False
deadline = time.monotonic() + 20
while time.monotonic() < deadline and not got:
    if sub.poll(500):
        got = any({marker!r}.encode() in part for part in sub.recv_multipart())
print(json.dumps(got))
"""
    printer = "import time\nfor _ in range(60):\n"
    printer += f"    print({marker!r}, flush=True)\n    time.sleep(0.25)"

    async def attack() -> Any:
        snooping = asyncio.ensure_future(alice._run(mine, snoop, 90))
        await asyncio.sleep(3)  # alice subscribes meanwhile; bob prints for 15 s from here
        await bob._run(his, printer, 90)
        return json.loads(text_of(await snooping).strip().splitlines()[-1])

    assert asyncio.run(attack()) is (not sandboxed(server))


def test_the_cookie_secret_is_out_of_reach(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    secret_file = os.path.join(runtime_dir(server), "jupyter_cookie_secret")
    seen = run_json(
        alice,
        kernel,
        f"import json\ntry:\n    seen = open({secret_file!r}).read()\nexcept OSError as e:\n"
        "    seen = type(e).__name__\nprint(json.dumps(seen))",
    )
    if sandboxed(server):
        assert seen == "FileNotFoundError"
    else:
        assert seen == Path(secret_file).read_text()


def test_system_secrets_and_secret_environment_variables_are_out_of_reach(
    server: JupyterServer,
) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    shadow, variable = run_json(
        alice,
        kernel,
        "import json, os\ntry:\n    shadow = len(open('/etc/shadow').read())\n"
        "except OSError as e:\n    shadow = type(e).__name__\n"
        f"print(json.dumps([shadow, os.environ.get({SECRET_VARIABLE!r})]))",
    )
    if sandboxed(server):
        # /dev/null is bound over it, and a device node in a user namespace does not open.
        assert (shadow, variable) == ("PermissionError", None)
    else:
        assert variable == "s3cret"
        if os.access("/etc/shadow", os.R_OK):  # the server's user may: so may its kernels
            assert shadow == len(Path("/etc/shadow").read_text())


def test_a_runtime_folder_inside_the_served_folder_stays_hidden(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Serving the home folder, say: the served folder comes back into the sandbox, and the
    runtime folder inside it must not come with it."""
    root = tmp_path_factory.mktemp("runtime-inside")
    (root / "index.md").write_text(PAGE)
    runtime = root / ".rt"
    runtime.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
        server = start_livecells_serve(root, "--public", "--pool-size=0", "--sandbox=bwrap")
    try:
        alice = Visitor(server)
        kernel = alice.start_kernel()
        seen = run_json(
            alice,
            kernel,
            f"import json, os\nprint(json.dumps([os.path.exists({str(root / 'index.md')!r}), "
            f"sorted(os.listdir({str(runtime)!r}))]))",
        )
        assert (runtime / "jupyter_cookie_secret").exists()
        # At most its own folder (made in the runtime folder only when that path is short
        # enough for socket addresses, else in /tmp): never the cookie secret, nor others'.
        assert seen[0] is True and len(seen[1]) <= 1, seen
        assert all(name.startswith("lc-") for name in seen[1]), seen
    finally:
        server.stop()


def test_the_served_folder_cannot_be_written(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    page = server.root / "index.md"
    before = page.read_text()
    try:
        seen = run_json(
            alice,
            kernel,
            "import json\nresults = []\n"
            "for path, text in [('index.md', '<script src=evil.js></script>'), "
            "('evil.js', 'alert(1)')]:\n"
            "    try:\n        open(path, 'a').write(text)\n        results.append('written')\n"
            "    except OSError as e:\n        results.append(type(e).__name__)\n"
            "print(json.dumps(results))",
        )
        if sandboxed(server):
            assert seen == ["OSError", "OSError"]  # EROFS: a read-only file system
            assert page.read_text() == before and not (server.root / "evil.js").exists()
            assert "evil.js" not in alice.http.get("livecells/").text
        else:
            assert seen == ["written", "written"]
            assert "<script src=evil.js>" in page.read_text()
    finally:
        page.write_text(before)
        (server.root / "evil.js").unlink(missing_ok=True)


def test_no_other_process_is_visible(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    seen = run_json(
        alice,
        kernel,
        "import os, json\ncommands = []\nfor pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n        try:\n"
        "            commands.append(open(f'/proc/{pid}/cmdline', 'rb').read().decode())\n"
        "        except OSError:\n            pass\nprint(json.dumps(commands))",
    )
    serving = [command for command in seen if "livecells\0serve" in command]
    if sandboxed(server):
        assert serving == [] and len(seen) <= 3, seen  # its init, the kernel (and a child)
        # Its init: the image's (forked in the template, a PID namespace of its own), or bwrap.
        assert any("provisioners/image.py\0" in command for command in seen) is forked(server)
    else:
        assert any(f"serve\0{server.root}\0" in command for command in serving), serving


# -- the process tree -------------------------------------------------------------------------


def test_children_cannot_escape_the_memory_limit(server: JupyterServer) -> None:
    """Three children of 600 MB each, under a 1024 MB limit per kernel: each is under it (an
    rlimit per process lets all three live); the sandbox charges them together."""
    alice = Visitor(server)
    kernel = alice.start_kernel()
    code = """
import json, subprocess, sys, time
child = "b = b'x' * (600 << 20); print('held', flush=True); import time; time.sleep(60)"
children = [subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE)
            for _ in range(3)]
held = 0
for process in children:
    held += process.stdout.readline() == b"held\\n"
time.sleep(1)  # the memory of all three is taken: a limit over the tree acts now
alive = sum(process.poll() is None for process in children)
for process in children:
    process.kill()
    process.wait()
print(json.dumps([held, alive]))
"""
    held, alive = run_json(alice, kernel, code, timeout=120)
    if sandboxed(server):
        assert alive < 3 and held < 3, (held, alive)
    else:
        assert (held, alive) == (3, 3)


def test_a_fork_bomb_stops_at_the_process_limit(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    code = """
import json, os, signal, time
children = []
try:
    for _ in range(300):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    stopped = type(exc).__name__
else:
    stopped = None
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps([len(children), stopped]))
"""
    forked, stopped = run_json(alice, kernel, code, timeout=120)
    if sandboxed(server):
        assert forked < PROCESSES and stopped == "BlockingIOError", (forked, stopped)  # EAGAIN
    else:
        assert (forked, stopped) == (300, None)


@pytest.mark.parametrize("end", ["shutdown", "restart"])
def test_setsid_children_do_not_outlive_their_kernel(server: JupyterServer, end: str) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    seconds = f"{time.time() % 1000 + 1000:.3f}"  # a command line no one else runs
    started = run_json(
        alice,
        kernel,
        "import json, subprocess\n"
        f"subprocess.Popen(['sleep', '{seconds}'], start_new_session=True)\n"
        "print(json.dumps('started'))",
    )
    assert started == "started" and len(host_processes(f"sleep {seconds}")) == 1
    if end == "shutdown":
        assert alice.request("DELETE", f"api/kernels/{kernel}").status_code == 204
    else:
        assert alice.request("POST", f"api/kernels/{kernel}/restart").status_code == 200
    deadline = time.monotonic() + 30
    while host_processes(f"sleep {seconds}") and time.monotonic() < deadline:
        time.sleep(0.1)
    left = host_processes(f"sleep {seconds}")
    for pid in left:
        os.kill(pid, 9)
    assert (left == []) is sandboxed(server), left


# -- a sandboxed kernel still works -----------------------------------------------------------


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    started = serve(tmp_path_factory, "--sandbox=bwrap", "--kernel-network=none")
    yield started
    stop(started)


def connect_back(visitor: Visitor, kernel: str) -> tuple[str, bool]:
    """The kernel connects to a listener the test opens on 127.0.0.1: what it says, and
    whether the listener was reached."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        said = run_json(
            visitor,
            kernel,
            "import json, socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=10).close()\n"
            "    said = 'connected'\nexcept OSError as e:\n    said = type(e).__name__\n"
            "print(json.dumps(said))",
        )
        try:
            listener.accept()[0].close()
            reached = True
        except TimeoutError:
            reached = False
    return said, reached


def test_kernel_network_none_cuts_the_network_but_the_kernel_still_runs(
    offline: JupyterServer,
) -> None:
    alice = Visitor(offline)
    kernel = alice.start_kernel()
    assert connect_back(alice, kernel) == ("ConnectionRefusedError", False)
    assert "livecells serve: kernels sandboxed by bubblewrap" in offline.log.read_text()
    assert "no network" in offline.log.read_text()


def test_a_sandboxed_kernel_has_the_network_by_default(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    assert connect_back(alice, kernel) == ("connected", True)


def test_a_sandboxed_kernel_is_interrupted_and_restarted(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    assert "kept" in text_of(alice.run(kernel, "y = 'kept'\nprint(y)"))

    async def interrupted() -> dict[str, Any]:
        from tests.server.test_public import execute

        socket_ = await alice.connect(kernel)
        msg_id = await execute(socket_, "import time\ntime.sleep(60)")
        deadline = time.monotonic() + 50
        while True:
            msg = json.loads(await asyncio.wait_for(socket_.read_message(), 50))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "execute_input":
                response = alice.request("POST", f"api/kernels/{kernel}/interrupt")
                assert response.status_code == 204
            if msg["header"]["msg_type"] == "execute_reply":
                assert time.monotonic() < deadline
                socket_.close()
                content: dict[str, Any] = msg["content"]
                return content

    reply = asyncio.run(interrupted())
    assert (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt")
    # The same kernel, alive: the interrupt reached it alone (had bwrap died of it, the kernel
    # would be gone and a restarted one would not know y).
    assert text_of(alice.run(kernel, "print(y)")) == "kept\n"
    assert "1" in text_of(alice.run(kernel, "x = 1\nprint(x)"))
    assert alice.request("POST", f"api/kernels/{kernel}/restart").status_code == 200
    assert "NameError" in text_of(alice.run(kernel, "print(x)"))
    uid = run_json(alice, kernel, "import os, json\nprint(json.dumps(os.getuid()))")
    assert uid == (65534 if sandboxed(server) else os.getuid())


def test_a_sandboxed_kernel_reads_stdin(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()

    async def ask() -> str:
        socket_ = await alice.connect(kernel)
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex}
        header |= {"username": "", "version": "5.3", "date": ""}
        content = {"code": "print('hello', input('name? '))", "silent": False}
        content["allow_stdin"] = True
        request = {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell"}
        await socket_.write_message(json.dumps(request | {"content": content}))
        text = ""
        while True:
            msg = json.loads(await asyncio.wait_for(socket_.read_message(), 60))
            kind = msg["header"]["msg_type"]
            if kind == "input_request":
                reply_header = header | {"msg_id": uuid.uuid4().hex, "msg_type": "input_reply"}
                reply = {"header": reply_header, "parent_header": msg["header"]}
                reply |= {"metadata": {}, "channel": "stdin", "content": {"value": "ada"}}
                await socket_.write_message(json.dumps(reply))
            elif kind == "stream" and msg["parent_header"].get("msg_id") == msg_id:
                text += msg["content"]["text"]
            elif kind == "execute_reply" and msg["parent_header"].get("msg_id") == msg_id:
                socket_.close()
                return text

    assert asyncio.run(ask()) == "hello ada\n"


def test_the_home_and_tmp_folders_are_private_and_writable(server: JupyterServer) -> None:
    alice = Visitor(server)
    kernel = alice.start_kernel()
    seen = run_json(
        alice,
        kernel,
        "import json, os, tempfile\nhome = os.path.expanduser('~')\n"
        "open(os.path.join(home, 'mine'), 'w').write('x')\n"
        "open(os.path.join(tempfile.gettempdir(), 'mine'), 'w').write('x')\n"
        "try:\n    open('/var/tmp/mine', 'w').write('x')\n    other = 'written'\n"
        "except OSError as e:\n    other = type(e).__name__\n"
        "print(json.dumps([home, sorted(os.listdir(home)), sorted(os.listdir('/tmp')), other]))",
    )
    home, in_home, in_tmp, other = seen
    # Other hidden folders are empty and read-only (each writable tmpfs is memory).
    assert other == ("OSError" if sandboxed(server) else "written")
    Path("/var/tmp/mine").unlink(missing_ok=True)
    # Nothing of the server's: only what the kernel writes (its own IPython folder, "mine") and
    # the folders leading to what is bound back in (its Python, when it lives in the home
    # folder; the served and the runtime folders, here in /tmp; the limits script, in /tmp
    # when the project was cloned there).
    limits_script = Path(limits.__file__).resolve().parent
    bound = [Path(sys.prefix), server.root, Path(runtime_dir(server)), limits_script]
    allowed_home = {".ipython", "mine"} | {
        path.relative_to(home).parts[0] for path in bound if path.is_relative_to(home)
    }
    allowed_tmp = {"mine"} | {
        path.relative_to("/tmp").parts[0] for path in bound if path.is_relative_to("/tmp")
    }
    assert "mine" in in_home and "mine" in in_tmp
    assert (set(in_home) <= allowed_home) is sandboxed(server), in_home
    assert (set(in_tmp) <= allowed_tmp) is sandboxed(server), in_tmp
    # Written to the server's own folders only without the sandbox.
    assert Path(home, "mine").exists() is not sandboxed(server)
    assert Path("/tmp/mine").exists() is not sandboxed(server)
    Path(home, "mine").unlink(missing_ok=True)
    Path("/tmp/mine").unlink(missing_ok=True)


def test_each_kernel_has_a_home_a_tmp_and_a_shm_of_its_own(server: JupyterServer) -> None:
    """Kernels forked in one template share its mounts until each makes its own: what one
    visitor writes to its home, /tmp or /dev/shm (POSIX shared memory) the next never sees."""
    alice, bob = Visitor(server), Visitor(server)
    name = f"from-alice-{uuid.uuid4().hex[:8]}"
    places = "[os.path.expanduser('~'), '/tmp', '/dev/shm']"
    write = f"import json, os\nfor d in {places}:\n    open(os.path.join(d, {name!r}), 'w')\n"
    run_json(alice, alice.start_kernel(), write + "print(json.dumps(0))")
    look = f"import json, os\nprint(json.dumps([{name!r} in os.listdir(d) for d in {places}]))"
    seen = run_json(bob, bob.start_kernel(), look)
    try:
        assert seen == ([False] * 3 if sandboxed(server) else [True] * 3)
    finally:
        for folder in (Path.home(), Path("/tmp"), Path("/dev/shm")):
            (folder / name).unlink(missing_ok=True)
