"""A static file server on 127.0.0.1 for built sites, as a plain static host serves them:
optionally cross-origin isolated (COOP/COEP headers), with the right types for .wasm and .mjs."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    isolated = False
    cache = False
    cors = False
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
    }

    def end_headers(self) -> None:
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        if self.cache and "/_livecells/" in self.path:
            self.send_header("Cache-Control", "public, max-age=86400")  # as the _headers file
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_static(
    root: Path, *, isolated: bool, cache: bool = False, cors: bool = False
) -> Iterator[str]:
    """Serve ``root``; yields its base URL (``http://127.0.0.1:PORT/``). ``cache``: send the
    caching headers of the ``_headers`` file a build writes; ``cors``: allow any origin (a
    CDN)."""
    handler = type("Handler", (_Handler,), {"isolated": isolated, "cache": cache, "cors": cors})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
