"""The fault run's database proxy really cuts: refused or silent while cut, open once healed."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest
from faults.proxy import CuttableProxy
from faults.services import free_port


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1024):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=2)


def echoes(sock: socket.socket) -> bool:
    sock.sendall(b"ping")
    return sock.recv(16) == b"ping"


def is_closed(sock: socket.socket) -> bool:
    """Whether the other side closed or reset the connection."""
    try:
        sock.settimeout(2)
        sock.sendall(b"ping")
        return sock.recv(16) == b""
    except OSError:
        return True


def test_a_drop_cut_resets_open_connections_and_refuses_new_ones(echo_port: int) -> None:
    proxy = CuttableProxy(free_port(), echo_port, "drop")
    proxy.start()
    try:
        before = connect(proxy.port)
        assert echoes(before)
        proxy.cut()
        assert is_closed(before)
        with pytest.raises(ConnectionRefusedError):
            connect(proxy.port)
        proxy.heal()
        assert echoes(connect(proxy.port))
    finally:
        proxy.close()


def test_a_blackhole_cut_holds_connections_silent_then_resets_them(echo_port: int) -> None:
    proxy = CuttableProxy(free_port(), echo_port, "blackhole")
    proxy.start()
    try:
        held = connect(proxy.port)
        assert echoes(held)
        proxy.cut()
        silent = connect(proxy.port)  # accepted, as across a partition
        for sock in (held, silent):
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                echoes(sock)
        proxy.heal()
        assert is_closed(held) and is_closed(silent)
        assert echoes(connect(proxy.port))
    finally:
        proxy.close()
