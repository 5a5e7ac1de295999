"""Build small pure-Python wheels on the spot, so that package tests need no index, and serve
them as a local stand-in for a package index (PEP 503's simple API) when a test needs one."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
import threading
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def make_wheel(directory: Path, name: str, version: str, module_source: str) -> Path:
    """A valid ``py3-none-any`` wheel of one module ``name`` (no dependencies)."""
    return make_package_wheel(directory, name, version, {f"{name}.py": module_source}, [name])


def make_package_wheel(
    directory: Path, name: str, version: str, files: Mapping[str, str], top_level: list[str]
) -> Path:
    """A valid ``py3-none-any`` wheel of distribution ``name`` holding ``files`` (paths inside
    site-packages -> source) whose importable top-level names are ``top_level``."""
    wheel_name = re.sub(r"[-_.]+", "_", name)
    dist = f"{wheel_name}-{version}.dist-info"
    files = {
        **files,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: livecells-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/top_level.txt": "".join(f"{module}\n" for module in top_level),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{wheel_name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


class _IndexHandler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        match = re.fullmatch(r"/simple/([^/]+)/", self.path)
        if match is None:
            super().do_GET()  # a wheel file
            return
        project = match.group(1)
        wheels = [
            wheel.name
            for wheel in sorted(Path(self.directory).glob("*.whl"))
            if re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower() == project
        ]
        if not wheels:
            self.send_error(404)
            return
        links = "".join(f'<a href="../../{html.escape(w)}">{html.escape(w)}</a>\n' for w in wheels)
        body = f"<!doctype html><html><body>\n{links}</body></html>\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_index(directory: Path) -> Iterator[str]:
    """The wheels in ``directory`` as a package index on 127.0.0.1: yields its simple API's
    URL (``http://127.0.0.1:PORT/simple/``), for ``pip --extra-index-url``."""
    handler = functools.partial(_IndexHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
