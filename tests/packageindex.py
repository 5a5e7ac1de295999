"""A local stand-in for a package index (PyPI cannot be relied on from tests): PEP 503 simple
pages and wheels from a folder, on 127.0.0.1, where a test decides which projects answer at
once and which hold pip's request (until released, or forever, as a resolver backtracking for
minutes would keep it busy). Every request is recorded, so a test can show that nothing asked
for a project at all.

``pip_environment()`` points a ``pip download`` (livecells' wheel resolution) at it alone: no
pip configuration file, no other index, no find-links, no cache.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.wheelfactory import make_wheel

from livecells.wheels import pyodide_info


@dataclass
class PackageIndex:
    url: str
    wheels: Path
    requests: list[str] = field(default_factory=list)
    held: dict[str, threading.Event] = field(default_factory=dict)
    """Project name -> released when set; its simple page waits until then."""
    asked: dict[str, threading.Event] = field(default_factory=dict)

    def hold(self, project: str) -> threading.Event:
        """Hold pip's requests for ``project`` until the returned event is set."""
        self.held[project] = threading.Event()
        return self.held[project]

    def was_asked(self, project: str) -> threading.Event:
        """Set once anything asked for ``project``'s page."""
        return self.asked.setdefault(project, threading.Event())

    def pip_environment(self, cache: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        return env | {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": self.url,
            "PIP_NO_CACHE_DIR": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "XDG_CACHE_HOME": str(cache),
        }


@contextmanager
def package_index(folder: Path, projects: dict[str, str]) -> Iterator[PackageIndex]:
    """An index of ``projects`` (name -> module source, version 1.0) plus micropip and
    packaging at the versions livecells fetches for Pyodide (stand-ins: a module each)."""
    info = pyodide_info()
    folder.mkdir(parents=True, exist_ok=True)
    wheels = {"micropip": info["micropip"], "packaging": info["packaging"]}
    for name, version in wheels.items():
        make_wheel(folder, name, version, "STAND_IN = True\n")
    for name in projects:
        make_wheel(folder, name, "1.0", projects[name])
        wheels[name] = "1.0"
    index = PackageIndex("", folder)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            index.requests.append(self.path)
            parts = [part for part in self.path.split("/") if part]
            if len(parts) == 2 and parts[0] == "simple":
                project = parts[1]
                index.was_asked(project).set()
                if project in index.held:
                    index.held[project].wait()
                if project not in wheels:
                    self.send_error(404)
                    return
                name = f"{project}-{wheels[project]}-py3-none-any.whl"
                body = f'<html><body><a href="/files/{name}">{name}</a></body></html>'
                self.reply(body.encode(), "text/html")
            elif len(parts) == 2 and parts[0] == "files" and (folder / parts[1]).is_file():
                self.reply((folder / parts[1]).read_bytes(), "application/octet-stream")
            else:
                self.send_error(404)

        def reply(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    index.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        for event in index.held.values():
            event.set()
        server.shutdown()
        server.server_close()
        thread.join()
