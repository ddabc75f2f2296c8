"""What the examples' tests share: a webhook posted through a proxy to a listener that is
down."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

SECRET = "k3Jd9-Qw_Lm2Zx8Pv5Tn7Rb4Hy6Fc1Ga0Se"
"""What ORDERAMT_WEBHOOK_SECRET would be."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: a listener that is down (connections refused)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


def post(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", f"/orderamt/{SECRET}", body=body)
        return connection.getresponse().status
    finally:
        connection.close()


def serving(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def wait_until_serving(port: int, server: subprocess.Popen[str]) -> None:
    """Until `server` (started on `port`) takes connections; it must not have died."""
    deadline = time.monotonic() + 20
    while not serving(port):
        assert server.poll() is None, server.communicate()
        assert time.monotonic() < deadline, f"nothing serves on port {port}"
        time.sleep(0.05)
