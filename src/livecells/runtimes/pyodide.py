"""Runtime ``pyodide``: CPython compiled to WebAssembly, run by Node.js.

The worker code the reader's browser runs (the client's Pyodide kernel) runs here in a Node
worker thread, driven by ``static/pyodide-node.mjs`` over JSON lines on stdio. So
``livecells run --runtime pyodide`` tells an author, before publishing, whether each page will
run in the browser runtime: same Python, same kernel semantics, same packages (the pure-Python
wheels a ``livecells build`` would ship, fetched the same way). Node.js 18+ is found on PATH.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livecells.assets import STATIC_DIR
from livecells.config import PYODIDE_TIMEOUT_MS
from livecells.errors import KernelNotFound, MessageError, RuntimeNotAvailable
from livecells.messages import CHANNELS, Message
from livecells.node import node_executable
from livecells.runtimes.base import Kernel, Status, log

__all__ = ["PyodideKernel"]

HOST = STATIC_DIR / "pyodide-node.mjs"
LINE_LIMIT = 1 << 30
"""A line is one message; an image output can be megabytes."""


class PyodideKernel(Kernel):
    """Python in Pyodide under Node.js, with the browser runtime's kernel semantics.

    ``packages``: requirement strings installed before the first cell, from pure-Python wheels
    (see :mod:`livecells.wheels`); ``requirements``: a ``requirements.txt`` read the same way.
    ``index_urls``: where Pyodide's files are (default: the copy inside livecells). ``cwd``:
    the notebook's folder: Python starts there and sees the files a built page would (see
    :mod:`livecells.pagefiles`), read from the disk. ``boot_timeout``: seconds Pyodide may take
    to load from one of them (0: no limit).
    """

    runtime = "pyodide"

    def __init__(
        self,
        kernel_name: str = "python3",
        *,
        packages: Sequence[str] = (),
        requirements: str | os.PathLike[str] | None = None,
        index_urls: Sequence[str] | None = None,
        autoload_imports: bool = True,
        figure_formats: Sequence[str] = ("svg",),
        boot_timeout: float = PYODIDE_TIMEOUT_MS / 1000,
        node: str | None = None,
        cwd: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if not (kernel_name.startswith("python") or kernel_name in ("pyodide", "xpython")):
            raise KernelNotFound(
                f"the pyodide runtime runs Python only, not kernel {kernel_name!r}; "
                "use --runtime local for other languages"
            )
        self.kernel_name = kernel_name
        self.packages = list(packages)
        self.requirements = Path(requirements) if requirements else None
        self.index_urls = list(index_urls) if index_urls else None
        self.autoload_imports = autoload_imports
        self.figure_formats = list(figure_formats)
        self.boot_timeout = boot_timeout
        self.node = node
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._booted: asyncio.Future[None] | None = None

    async def _start(self) -> None:
        node = await asyncio.to_thread(node_executable, self.node)
        if not HOST.is_file():
            raise RuntimeNotAvailable(
                f"the Pyodide kernel is not built ({HOST} is missing): reinstall livecells "
                "with Node.js available, or run `npm ci && npm run build` in frontend/"
            )
        boot: dict[str, Any] = {
            "autoloadImports": self.autoload_imports,
            "figureFormats": self.figure_formats,
            "timeoutMs": int(self.boot_timeout * 1000),
        }
        if self.index_urls:
            boot["indexURLs"] = self.index_urls
        requirements = list(self.packages)
        if self.requirements is not None and self.requirements.is_file():
            from livecells.wheels import read_requirements

            requirements += read_requirements(self.requirements)
        if requirements:
            from livecells.wheels import client_requirement, fetch_wheels

            self._set_status(Status.STARTING, f"fetching wheels for {', '.join(requirements)}")
            wheels = await asyncio.to_thread(fetch_wheels, requirements)
            for problem in wheels.problems:
                log.warning("pyodide: %s", problem)
            boot["lockFileURL"] = str(wheels.lock_file)
            boot["packages"] = [client_requirement(r) for r in requirements]
        if self.cwd is not None:
            boot["files"] = await asyncio.to_thread(_page_files, Path(self.cwd))
        self._set_status(Status.STARTING, "starting Pyodide under Node.js")
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(HOST),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.cwd,
            limit=LINE_LIMIT,
        )
        self._booted = asyncio.get_running_loop().create_future()
        self._spawn(self._read())
        self._spawn(self._read_stderr())
        await self._write({"type": "boot", "options": boot})
        await self._wait_booted()

    async def _wait_booted(self) -> None:
        assert self._booted is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._booted), self.startup_timeout)
        except TimeoutError:
            raise RuntimeNotAvailable(
                f"Pyodide did not start within {self.startup_timeout:.0f} s"
            ) from None

    async def _write(self, line: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise RuntimeNotAvailable("the Pyodide process is not running")
        process.stdin.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        try:
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise RuntimeNotAvailable("the Pyodide process exited") from None

    async def _read(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        while line := await stdout.readline():
            try:
                event = json.loads(line)
                if event.get("type") == "message":
                    self._dispatch(_message(event.get("msg")))
                elif event.get("type") == "warning":
                    log.warning("pyodide: %s", event.get("detail"))
                elif event.get("type") == "status":
                    self._on_host_status(str(event.get("status")), str(event.get("detail", "")))
            except (ValueError, MessageError) as exc:
                log.warning("dropped a line from the Pyodide process: %s", exc)
        await process.wait()
        if not self._closed:
            detail = "; ".join(self._stderr) or f"exit status {process.returncode}"
            self._fail_boot(f"the Pyodide process exited: {detail}")
            self._kernel_died(f"the Pyodide process exited: {detail}")

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for line in self._process.stderr:
            text = line.decode(errors="replace").rstrip()
            if text:
                self._stderr.append(text)
                log.debug("pyodide: %s", text)

    def _on_host_status(self, status: str, detail: str) -> None:
        if status in ("loading", "installing", "starting"):
            if self.status != Status.BUSY:  # a %pip install inside a cell
                self._set_status(Status.STARTING, detail)
        elif status == "ready":
            if self._booted is not None and not self._booted.done():
                self._booted.set_result(None)
        elif status == "error":
            self._fail_boot(detail)
            if self._booted is not None and self._booted.done() and not self._closed:
                self._set_status(Status.ERROR, detail)
        elif status == "dead" and not self._closed:
            self._fail_boot(detail)
            self._kernel_died(detail)

    def _fail_boot(self, detail: str) -> None:
        if self._booted is not None and not self._booted.done():
            self._booted.set_exception(RuntimeNotAvailable(detail))

    async def _send(self, msg: Message) -> None:
        buffers = [base64.b64encode(buffer).decode("ascii") for buffer in msg.buffers]
        await self._write({"type": "message", "msg": {**msg.to_dict(), "buffers": buffers}})

    async def _interrupt(self) -> None:
        await self._write({"type": "interrupt"})

    async def _restart(self) -> None:
        self._booted = asyncio.get_running_loop().create_future()
        await self._write({"type": "restart"})
        await self._wait_booted()

    async def _shutdown(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            with contextlib.suppress(Exception):
                process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except TimeoutError:
            process.kill()
            await process.wait()


def _page_files(folder: Path) -> dict[str, Any]:
    """The listing a page in ``folder`` would get from ``livecells build``, its root the
    project's folder on the disk; the files the cap leaves out are logged, as a build reports
    them."""
    from livecells.pagefiles import PageFiles, project_root

    root = project_root(folder)
    listing = PageFiles(root).for_notebook(folder)
    for problem in listing.problems:
        log.warning("pyodide: %s", problem)
    return listing.to_json(root.as_uri() + "/")


def _message(value: object) -> Message:
    if not isinstance(value, dict):
        raise MessageError("malformed message: not an object")
    channel = value.get("channel")
    header = value.get("header")
    if channel not in CHANNELS or not isinstance(header, dict):
        raise MessageError("malformed message: no channel or header")
    return Message(
        channel=str(channel),
        header=header,
        parent_header=value.get("parent_header") or {},
        metadata=value.get("metadata") or {},
        content=value.get("content") or {},
        buffers=_buffers(value.get("buffers")),
    )


def _buffers(value: object) -> list[bytes]:
    """A message's buffers: base64 strings on the Node.js host's JSON lines."""
    if not isinstance(value, list):
        return []
    try:
        return [base64.b64decode(item, validate=True) for item in value if isinstance(item, str)]
    except ValueError:
        raise MessageError("malformed message: a buffer is not base64") from None
