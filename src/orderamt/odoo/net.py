"""What every transport shares: socket failures turned into errors, and JSON over HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from orderamt.errors import OdooError, OdooUnavailable
from orderamt.urls import mask_url

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "orderamt"


def connection_error(exc: BaseException, url: str, what: str, timeout: float) -> OdooError:
    """A socket or HTTP-level failure as one line; the ones that may pass are retryable."""
    where = mask_url(url)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return OdooUnavailable(
            f"Odoo at {where} did not answer {what} within {timeout:g} s (ODOO_TIMEOUT)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return OdooUnavailable(f"cannot reach Odoo at {where}: connection refused (is it running?)")
    if isinstance(exc, ssl.SSLError):
        return OdooError(f"cannot reach Odoo at {where}: TLS error: {exc.reason}")
    if isinstance(exc, socket.gaierror):
        return OdooError(f"cannot reach Odoo at {where}: the host name does not resolve")
    reason = str(exc) or type(exc).__name__
    return OdooUnavailable(f"cannot reach Odoo at {where}: {reason}")


def http_status_error(status: int, reason: str, url: str, what: str) -> OdooError:
    """An HTTP error page (a proxy's, usually) as one line; 429 and 502-504 are retryable."""
    text = (
        f"Odoo at {mask_url(url)} answered {what} with HTTP {status} {reason}".rstrip()
        + " (is Odoo running behind its proxy? check ODOO_URL)"
    )
    return OdooUnavailable(text) if status in TRANSIENT_STATUSES else OdooError(text)


class JsonHttp:
    """POSTs and GETs JSON over one kept-alive connection, with a timeout and no redirects."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base_path = parts.path
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self.date: str | None = None
        """The Date header of the last answer (`server_clock` reads it)."""

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout
                )
        return self._connection

    def request(
        self,
        verb: str,
        path: str,
        what: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str, dict[str, str]]:
        """(status, reason, body text, headers by lower-case name); socket errors mapped."""
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        try:
            connection = self._connect()
            connection.request(verb, self._base_path + path, body=payload, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise connection_error(exc, self.url, what, self.timeout) from None
        except (ValueError, UnicodeError):
            # http.client refuses a header with a newline or a non-Latin-1 character; its
            # message would quote the header, which carries the API key.
            self.close()
            raise OdooError(
                "ODOO_PASSWORD or ODOO_DB holds a character that cannot be sent in an HTTP "
                "header (a trailing newline? a non-Latin-1 letter?)"
            ) from None
        if response.will_close:
            self.close()
        received = {k.lower(): v for k, v in response.getheaders()}
        self.date = received.get("date")
        return response.status, response.reason, text, received


def server_clock(date: str | None) -> datetime | None:
    """An answer's `Date` header as an aware UTC time (whole seconds), None where it has none
    or one that is no HTTP date. Odoo's web server (or the proxy before it) sets it from its
    own clock, the one clock of Odoo's side a client can read."""
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "zone unknown"; HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def is_json(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
