"""
A tiny raw HTTP server for hostile-peer tests: it answers each connection with a scripted behaviour
(trickle, huge body, cookies, hang) and counts the connections it accepted and those still open.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Self

Behaviour = Callable[[socket.socket, bytes, threading.Event], None]


class HostileServer:
    """
    Serve every connection with ``behaviour(sock, request_head, stopping)`` in its own thread.

    :param behaviour: what to answer; it may block until ``stopping`` is set.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.requests: list[bytes] = []
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def open_connections(self) -> int:
        """Connections whose client end has not been closed yet."""
        with self._lock:
            return len(self._open)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self._open.add(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            head = _read_head(conn)
            self.requests.append(head)
            self.behaviour(conn, head, self.stopping)
            _wait_for_close(conn, self.stopping)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._listener.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=2)


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _wait_for_close(conn: socket.socket, stopping: threading.Event) -> None:
    """Keep the connection until the client closes it (recv returns b"") or the server stops."""
    conn.settimeout(0.05)
    while not stopping.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def trickle(every: float, head_first: bool) -> Behaviour:
    """Send one byte every ``every`` seconds, of the status line (or, with ``head_first``, of the body)."""

    def behaviour(conn: socket.socket, head: bytes, stopping: threading.Event) -> None:
        if head_first:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
        stream: Iterator[bytes] = iter(lambda: b" ", None)
        if not head_first:
            stream = iter([bytes([c]) for c in b"HTTP/1.1 200 OK\r\nX-Slow: "] + [b"a"] * 100000)
        for byte in stream:
            if stopping.wait(every):
                return
            conn.sendall(byte)

    return behaviour


def endless_body(announce: int | None) -> Behaviour:
    """Answer 200 with a body that never ends (chunked), or announce ``announce`` bytes and send them."""

    def behaviour(conn: socket.socket, head: bytes, stopping: threading.Event) -> None:
        block = b"[" + b"0," * 32760 + b"0]"
        if announce is not None:
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {announce}\r\n\r\n".encode())
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while not stopping.is_set():
            conn.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")

    return behaviour


def json_answer(status: int, body: bytes, extra_headers: str = "") -> Behaviour:
    """Answer once with ``status`` and ``body``; ``extra_headers`` are raw header lines ending in CRLF."""

    def behaviour(conn: socket.socket, head: bytes, stopping: threading.Event) -> None:
        while head:
            answered.append(head)
            conn.sendall(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"{extra_headers}\r\n".encode()
                + body
            )
            head = _read_head(conn)

    answered: list[bytes] = []
    behaviour.answered = answered  # type: ignore[attr-defined]

    return behaviour


def hang() -> Behaviour:
    """Read the request and never answer (the connection stays open until the client closes it)."""

    def behaviour(conn: socket.socket, head: bytes, stopping: threading.Event) -> None:
        return

    return behaviour
