"""PyMySQL's preferred TLS: taken where a server offers it, no CA store loaded where not."""

from __future__ import annotations

import shutil
import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from orderamt.errors import PortalError
from orderamt.portal.engine import Database, create_portal_engine
from tests.conftest import MYSQL_URL, _require

PROTOCOL_41, SSL, SECURE_CONNECTION, PLUGIN_AUTH = 1 << 9, 1 << 11, 1 << 15, 1 << 19


def packet(payload: bytes, number: int) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([number]) + payload


def handshake(offers_tls: bool) -> bytes:
    """A MariaDB server's first packet (protocol 10), offering TLS or not."""
    capabilities = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | (SSL if offers_tls else 0)
    return packet(
        b"\x0a10.11.19-MariaDB\x00"
        + struct.pack("<I", 7)
        + b"abcdefgh\x00"
        + struct.pack("<H", capabilities & 0xFFFF)
        + struct.pack("<BHHB", 45, 2, capabilities >> 16, 21)
        + bytes(10)
        + b"ijklmnopqrst\x00mysql_native_password\x00",
        0,
    )


def read_packet(conn: socket.socket | ssl.SSLSocket) -> bytes:
    header = b""
    while len(header) < 4:
        header += conn.recv(4 - len(header))
    size = int.from_bytes(header[:3], "little")
    body = b""
    while len(body) < size:
        body += conn.recv(size - len(body))
    return body


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make the fake server's certificate")
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class FakeServer:
    """Speaks MariaDB's handshake up to the client's answer, then hangs up; notes whether the
    client turned to TLS and what it sent in the clear."""

    def __init__(self, offers_tls: bool, certificate: tuple[Path, Path]) -> None:
        self.offers_tls = offers_tls
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*certificate)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls_version: str | None = None
        self.answers: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(handshake(self.offers_tls))
            first = read_packet(conn)
            self.answers.append(first)
            if self.offers_tls and len(first) == 32:  # an SSLRequest: TLS comes next
                with self.context.wrap_socket(conn, server_side=True) as secure:
                    self.tls_version = secure.version()
                    self.answers.append(read_packet(secure))

    def url(self) -> str:
        return f"mysql+pymysql://portal_user@127.0.0.1:{self.port}/portal"


@pytest.fixture
def server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[FakeServer]:
    fake = FakeServer(request.param, certificate)
    yield fake
    fake.listener.close()
    fake.thread.join(5)


@pytest.mark.parametrize("server", [True], indirect=True)
def test_a_server_offering_tls_gets_the_login_over_tls(server: FakeServer) -> None:
    """Without a TLS option the portal connection takes TLS where the server offers it: the
    user name goes out only inside TLS."""
    with pytest.raises(PortalError):
        Database(create_portal_engine(server.url())).ping()
    server.thread.join(5)
    assert server.tls_version is not None
    assert b"portal_user" not in server.answers[0]
    assert b"portal_user" in server.answers[1]


@pytest.mark.parametrize("server", [False], indirect=True)
def test_a_server_without_tls_gets_the_login_in_the_clear(server: FakeServer) -> None:
    """A server offering no TLS is still reached (MySQL's PREFERRED mode), no TLS tried."""
    with pytest.raises(PortalError):
        Database(create_portal_engine(server.url())).ping()
    server.thread.join(5)
    assert server.tls_version is None
    assert b"portal_user" in server.answers[0]


def test_no_ca_store_is_loaded_for_a_server_without_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the real MariaDB (no TLS here), connecting loads no CA store: that cost
    20-35 ms a connection, for a context nothing used."""
    _require("MariaDB", MYSQL_URL)
    made: list[object] = []
    default_context = ssl.create_default_context

    def counted(*args: object, **kwargs: object) -> ssl.SSLContext:
        made.append(args)
        return default_context(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    engine = create_portal_engine(MYSQL_URL)
    try:
        with engine.connect() as one, engine.connect() as two:
            assert one.execute(text("SELECT @@have_ssl")).scalar() != "YES"
            assert two.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    assert made == []
