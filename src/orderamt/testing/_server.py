"""The double's HTTP server: threads per connection, keep-alive, and the outcomes a proxy or
a dying Odoo gives (no answer, a reset), with every connection cut when the double stops.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from orderamt.testing._http import Request, Response, internal_error

if TYPE_CHECKING:
    from orderamt.testing.odoo_double import OdooDouble


class Drop:
    """An outcome with no answer: hang until the double stops, or reset the connection."""

    def __init__(self, how: str) -> None:
        self.how = how


HANG = Drop("hang")
RESET = Drop("reset")


class ConnectionDropped(Exception):
    """Raised out of a handler whose connection was reset, so nothing more is written to it."""


class Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its connections, so it can close them on stop."""

    daemon_threads = True
    block_on_close = False  # close_connections() joins the threads, with a time limit

    def __init__(self, double: OdooDouble) -> None:
        self.double = double
        self.stopping = threading.Event()
        self._open: dict[threading.Thread, socket.socket] = {}
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)
        self.port: int = self.socket.getsockname()[1]

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's name (getfqdn), which can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.socket.getsockname()[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="odoo-double-connection",
            daemon=True,
        )
        with self._open_lock:
            refused = self.stopping.is_set()
            if not refused:
                self._open[thread] = request
        if refused:
            self.shutdown_request(request)
        else:
            thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except (OSError, ConnectionDropped):
            pass  # the client went away, stop() or a reset closed the connection: no news
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._open_lock:
                self._open.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float) -> None:
        """Wake hung handlers, cut every open connection, and wait for their threads."""
        self.stopping.set()
        with self._open_lock:
            open_connections = list(self._open.items())
        for _, connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread, _ in open_connections:
            thread.join(max(0.0, deadline - time.monotonic()))


class Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the double what to do with it, and does it."""

    # Headers and body go out in separate writes; without this, delayed ACKs stall answers.
    disable_nagle_algorithm = True

    server: Server
    protocol_version = "HTTP/1.1"  # keep-alive, as clients get from Odoo
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3.12.3"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output is no place for an access log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        request = Request(
            verb=self.command,
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
            client=str(self.client_address[0]),
        )
        try:
            outcome = self.server.double._exchange(request)
        except Exception:  # a bug in the double: answer as Odoo answers its own bugs
            traceback.print_exc()
            outcome = internal_error()
        if outcome is HANG:
            self.server.stopping.wait()
            self.close_connection = True
        elif outcome is RESET:
            self._reset()
        elif isinstance(outcome, Response):
            self._send(outcome)

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        self.send_response_only(response.status, response.reason)
        headers = dict(response.headers)
        self.send_header("Server", headers.pop("Server", self.version_string()))
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _reset(self) -> None:
        """Close the connection with a TCP reset: the client gets no answer at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            # A zero linger time makes close() send RST instead of FIN.
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        # The socket only closes once its file objects are closed too.
        self.rfile.close()
        self.wfile.close()
        self.connection.close()
        raise ConnectionDropped
