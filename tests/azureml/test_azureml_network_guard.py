"""The network guard of conftest.py: non-loopback connections fail at once; loopback and AF_UNIX work."""

import socket
import threading

import pytest


def test_a_connection_to_the_internet_is_blocked(network_guard):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="network access blocked in tests: connect to .*203.0.113.7"):
            sock.connect(("203.0.113.7", 443))
        with pytest.raises(RuntimeError, match="network access blocked"):
            sock.connect_ex(("management.azure.com", 443))
    finally:
        sock.close()
    assert network_guard == [("203.0.113.7", 443), ("management.azure.com", 443)]
    network_guard.clear()  # expected attempts, not a leak


def test_create_connection_is_blocked_too(network_guard):
    with pytest.raises(RuntimeError, match="network access blocked"):
        socket.create_connection(("198.51.100.1", 80), timeout=1)
    network_guard.clear()


def test_loopback_is_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    client = socket.create_connection(server.getsockname(), timeout=5)
    thread.join(5)
    client.sendall(b"ping")
    assert accepted[0].recv(4) == b"ping"
    for sock in (client, accepted[0], server):
        sock.close()


def test_unix_sockets_are_allowed(tmp_path):
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    left, right = socket.socketpair()
    left.sendall(b"x")
    assert right.recv(1) == b"x"
    for sock in (client, server, left, right):
        sock.close()
