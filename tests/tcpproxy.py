"""A TCP relay on 127.0.0.1 whose live connections a test can cut at once, like a dropped
network, while the server and its kernels live on. It runs in threads of its own, so sync tests
(Playwright's) and asyncio tests use it alike.

A cut stops both pumps of every connection first (each finishes forwarding what it has read), then
aborts both sockets with a RST: the relay itself never swallows bytes, so what a test sees lost
or kept is the client's and the server's doing. A hold stops forwarding and closes nothing."""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class _Connection:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.sockets = (client, upstream)
        self.stopping = threading.Event()
        self.held = threading.Event()
        self.pumps = [
            threading.Thread(target=self._pump, args=pair, daemon=True)
            for pair in ((client, upstream), (upstream, client))
        ]
        for pump in self.pumps:
            pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self.stopping.is_set():
                if self.held.is_set():
                    time.sleep(0.05)
                    continue
                readable, _, _ = select.select([source], [], [], 0.05)
                if not readable:
                    continue
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, ValueError):  # ValueError: select on a socket already closed
            pass
        if not self.stopping.is_set():  # an orderly end from one side: pass it on
            self.stopping.set()
            for sock in self.sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def abort(self) -> None:
        self.stopping.set()
        for pump in self.pumps:
            if pump is not threading.current_thread():
                pump.join(5)
        for sock in self.sockets:
            with suppress(OSError):  # RST, as a network failure would, instead of a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    @property
    def alive(self) -> bool:
        return not self.stopping.is_set()


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cuts = 0
        self._connections: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                ended = [c for c in self._connections if not c.alive]
                self._connections = [c for c in self._connections if c.alive]
                self._connections.append(_Connection(client, upstream))
            for connection in ended:
                connection.abort()

    def cut(self) -> int:
        """Abort every open connection (both ends see a RST); returns how many were cut."""
        with self._lock:
            victims, self._connections = self._connections, []
        live = [connection for connection in victims if connection.alive]
        for connection in victims:
            connection.abort()
        self.cuts += 1
        return len(live)

    def hold(self) -> None:
        """Stop forwarding, sockets left open: a network gone silent (a reader's laptop
        suspended), which only timeouts notice."""
        with self._lock:
            for connection in self._connections:
                connection.held.set()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.cut()


@contextmanager
def tcp_proxy(target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_port)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
