"""Shared fixtures: real kernels and a real ``jupyter server`` on 127.0.0.1.

The bash kernel is installed into a private JUPYTER_PATH for the test session, so the suite
needs nothing beyond ``pip install -e '.[test]'``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("LIVECELLS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_PROBLEM = pytest.StashKey[str]()


BWRAP_PROBLEM = pytest.StashKey[str]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before any test runs (so outside every test's timeout), make sure the browser tests
    that were collected have their Chromium, and the public-serving tests their bubblewrap (a
    public server refuses to start without it); a problem fails those tests with one line."""
    if any(
        "browser" in item.path.parts or "browser" in getattr(item, "fixturenames", ())
        for item in session.items
    ):
        problem = ensure_chromium()
        if problem is not None:
            session.config.stash[CHROMIUM_PROBLEM] = problem
    if any(item.path.name.startswith(("test_sandbox", "test_public")) for item in session.items):
        problem = ensure_bwrap()
        if problem is not None:
            session.config.stash[BWRAP_PROBLEM] = problem


def ensure_chromium() -> str | None:
    """Debian's Chromium (or ``$LIVECELLS_CHROMIUM``), installed with apt-get when absent and
    this process may (root); else one line saying how. Playwright's own browser download is
    never used (it needs a CDN). Returns the problem, or ``None`` when Chromium is there."""
    return ensure_debian_program(CHROMIUM, "chromium", "LIVECELLS_CHROMIUM", name="Chromium")


def ensure_bwrap() -> str | None:
    """Debian's bubblewrap (the public kernels' sandbox, ``$LIVECELLS_BWRAP`` or
    ``/usr/bin/bwrap``), installed with apt-get when absent and this process may (root)."""
    from livecells.server.sandbox import BWRAP

    return ensure_debian_program(BWRAP, "bubblewrap", "LIVECELLS_BWRAP", name="bwrap")


def ensure_debian_program(program: str, package: str, variable: str, *, name: str) -> str | None:
    """``program`` (``name``) from Debian's ``package``, installed with apt-get when absent and
    this process may (root); else one line saying how (or to set ``variable`` to another copy).
    Returns the problem, or ``None`` when the program is there."""
    if os.access(program, os.X_OK):
        return None
    how = f"install it (`apt-get install {package}`) or set {variable} to a {name}"
    apt = shutil.which("apt-get")
    if variable in os.environ or apt is None or os.geteuid() != 0:
        return f"{name} not found at {program}: {how}"
    # pytest-xdist's workers all get here at once: one apt-get at a time, the others then
    # find the program installed.
    with open(Path(tempfile.gettempdir()) / "livecells-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(program, os.X_OK):
            return None
        return _apt_install(apt, program, package, how)


def _apt_install(apt: str, program: str, package: str, how: str) -> str | None:
    print(f"\n{program} is missing: installing Debian's {package} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["update", "-q"], ["install", "-y", "-q", package]):
        done = subprocess.run([apt, *step], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"`apt-get {' '.join(step)}` failed ({last}): {how}"
    if not os.access(program, os.X_OK):
        return f"apt-get installed {package} but {program} is missing: {how}"
    return None


def page_config_of(html: str) -> dict[str, Any]:
    """The ``PageConfig`` a rendered page carries (its ``#livecells-config`` JSON)."""
    match = re.search(r'id="livecells-config">(.*?)</script>', html)
    assert match is not None, "the page has no #livecells-config"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def livecells_cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``livecells ARGS...`` in a process of its own (``env``: its environment), its output
    captured as text."""
    command = [sys.executable, "-m", "livecells", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session", autouse=True)
def kernelspecs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Install bash_kernel's kernelspec where jupyter_client (and any server we start) finds it."""
    prefix = tmp_path_factory.mktemp("jupyter-data")
    subprocess.run(
        [sys.executable, "-m", "bash_kernel.install", "--prefix", str(prefix)],
        check=True,
        capture_output=True,
    )
    data_dir = prefix / "share" / "jupyter"
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data_dir), old]))
    yield data_dir
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@dataclass
class JupyterServer:
    url: str
    token: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_jupyter_server(
    root: Path,
    *extra: str,
    token: str | None = None,
    timeout: float = 60.0,
    program: tuple[str, ...] = ("-m", "jupyter_server"),
    base_url: str = "",
    port: int | None = None,
) -> JupyterServer:
    """Start ``jupyter server`` (or ``program``, e.g. ``livecells serve DIR``, which takes its
    flags) on a free 127.0.0.1 port (or ``port``: a restart) and wait until its API answers."""
    token = secrets.token_hex(16) if token is None else token
    port = free_port() if port is None else port
    log = root.parent / f"{root.name}-server-{port}.log"
    command = [
        sys.executable,
        *program,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *extra,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=root)
    server = JupyterServer(f"http://127.0.0.1:{port}/{base_url}", token, port, root, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}api", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"jupyter server did not start: {log.read_text()[-2000:]}")


def start_livecells_serve(
    root: Path, *extra: str, base_url: str = "", timeout: float = 300.0
) -> JupyterServer:
    """``livecells serve ROOT`` (a jupyter_server app, so it takes the same flags); ``base_url``
    as ``live/`` when it serves under a path. ``--public`` starts one kernel before it serves
    (it measures the memory a kernel needs), hence the longer deadline on a loaded machine."""
    program = ("-m", "livecells", "serve", str(root))
    return start_jupyter_server(root, *extra, program=program, base_url=base_url, timeout=timeout)


@contextmanager
def kernel_gateway(log_dir: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """A Jupyter Kernel Gateway on a free 127.0.0.1 port: yields its URL (with a trailing
    slash) and token; stopped on exit."""
    token, port = secrets.token_hex(8), free_port()
    log = log_dir / "gateway.log"
    command = [
        sys.executable,
        "-m",
        "kernel_gateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        f"--KernelGatewayApp.auth_token={token}",
        *extra,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}api", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, token
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def jupyter_server(
    tmp_path_factory: pytest.TempPathFactory, kernelspecs: Path
) -> Iterator[JupyterServer]:
    """One real ``jupyter server`` with a token, shared by the session's tests."""
    server = start_jupyter_server(tmp_path_factory.mktemp("server-root"))
    yield server
    server.stop()
