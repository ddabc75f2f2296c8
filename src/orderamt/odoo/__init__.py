"""Talking to Odoo: each transport turns faults, HTTP and socket errors into OdooError.

`Odoo` reads the server's version once and picks the transport: JSON-2 on Odoo 19 and
later, XML-RPC before (or whichever ODOO_PROTOCOL names).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from orderamt.errors import OdooError
from orderamt.models import Cursor, OdooTotal
from orderamt.odoo.json2 import Json2Odoo
from orderamt.odoo.net import JsonHttp
from orderamt.odoo.records import FIELDS, parse_records
from orderamt.odoo.retry import NO_RETRIES, RetryPolicy, with_retries
from orderamt.odoo.version import ServerVersion, read_version
from orderamt.odoo.xmlrpc import XmlRpcOdoo

__all__ = [
    "FIELDS",
    "Json2Odoo",
    "Odoo",
    "OdooClient",
    "RetryPolicy",
    "ServerVersion",
    "XmlRpcOdoo",
    "parse_records",
]

log = logging.getLogger("orderamt")


class OdooClient(Protocol):
    protocol: str

    def login(self) -> None: ...

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]: ...

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]: ...

    def search_records(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> list[dict[str, Any]]: ...

    def create_record(self, model: str, values: dict[str, Any], what: str) -> int: ...

    def push(
        self, odoo_id: int, action: str, values: Mapping[str, object] | None = None
    ) -> None: ...

    def close(self) -> None: ...


def server_version(url: str, timeout: float, retry: RetryPolicy = NO_RETRIES) -> ServerVersion:
    http = JsonHttp(url, timeout)
    try:
        return with_retries("the version request", lambda: read_version(http), retry)
    finally:
        http.close()


class Odoo:
    """Odoo, whichever transport it takes: the version is read at login, then the transport
    chosen (JSON-2 on Odoo 19 and later under ODOO_PROTOCOL=auto, XML-RPC before)."""

    def __init__(
        self,
        url: str,
        db: str,
        username: str,
        secret: str,
        *,
        timeout: float,
        protocol: str = "auto",
        retry: RetryPolicy = NO_RETRIES,
        fields: Sequence[str] = (),
    ) -> None:
        self.url = url
        self.db = db
        self.username = username
        self._secret = secret
        self.timeout = timeout
        self.wanted = protocol
        self.retry = retry
        self.fields = tuple(fields)
        """The mapped fields' Odoo names, read beside the amount."""
        self.version: ServerVersion | None = None
        self.client: OdooClient | None = None

    @property
    def protocol(self) -> str:
        return self.client.protocol if self.client is not None else self.wanted

    def connect(self) -> ServerVersion:
        """Read the version (one call) and choose the transport; no login yet."""
        if self.client is not None and self.version is not None:
            return self.version
        version = server_version(self.url, self.timeout, self.retry)
        chosen = self.wanted
        if chosen == "auto":
            chosen = "json2" if version.has_json2 else "xmlrpc"
        if chosen == "json2":
            if not version.has_json2:
                raise OdooError(
                    f"ODOO_PROTOCOL=json2, but Odoo {version.text} has no JSON-2 API "
                    "(it came with Odoo 19): use ODOO_PROTOCOL=auto or xmlrpc"
                )
            self.client = Json2Odoo(
                self.url, self.db, self._secret, self.timeout, self.retry, self.fields
            )
        else:
            if version.has_json2:
                log.warning(
                    "XML-RPC is deprecated on this Odoo (removal announced for Odoo 22); "
                    "ODOO_PROTOCOL=auto would use JSON-2",
                    extra={"context": {"odoo_version": version.text}},
                )
            self.client = XmlRpcOdoo(
                self.url,
                self.db,
                self.username,
                self._secret,
                self.timeout,
                self.retry,
                self.fields,
            )
        self.version = version
        return version

    def login(self) -> None:
        self.connect()
        assert self.client is not None
        self.client.login()

    def _logged_in(self) -> OdooClient:
        """The transport, logged in first where not yet done."""
        if self.client is None:
            self.login()
        assert self.client is not None
        return self.client

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]:
        return self._logged_in().fetch_totals(ids)

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]:
        """Sale orders written at or after `since` (past the cursor `after`), in
        (write_date, id) order, at most `limit` of them."""
        return self._logged_in().changed_since(since, after, limit)

    def search_records(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> list[dict[str, Any]]:
        """Any model's records (the automation rule's set-up reads ir.model and the like)."""
        return self._logged_in().search_records(model, domain, fields, what)

    def create_record(self, model: str, values: dict[str, Any], what: str) -> int:
        return self._logged_in().create_record(model, values, what)

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """A portal's change into Odoo: `action` (odoo.push.METHODS) on one sale order;
        PushRefused where Odoo refuses it."""
        self._logged_in().push(odoo_id, action, values)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Odoo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
