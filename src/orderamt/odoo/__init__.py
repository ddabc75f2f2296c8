"""Talking to Odoo: each transport turns faults, HTTP and socket errors into OdooError.

`Odoo` reads the server's version once and picks the transport: JSON-2 on Odoo 19 and
later, XML-RPC before (or whichever ODOO_PROTOCOL names).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from orderamt.errors import LoginRefused, OdooError
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
    "SessionMemory",
    "XmlRpcOdoo",
    "parse_records",
]

log = logging.getLogger("orderamt")


T = TypeVar("T")


class OdooClient(Protocol):
    protocol: str

    @property
    def uid(self) -> int | None: ...

    def resume(self, uid: int) -> None: ...

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

    def answered_at(self) -> datetime | None:
        """Odoo's clock (its answer's HTTP Date, or its proxy's) when it last answered;
        None where it sent no date."""
        ...

    def close(self) -> None: ...


class SessionMemory(Protocol):
    """Where a run finds the login of an earlier run (the portal's journal keeps it): a user
    id under a key made of Odoo's address, database and user, never a secret."""

    def recall_login(self, key: str) -> int | None: ...

    def keep_login(self, key: str, uid: int | None) -> None:
        """Remember this user id under `key` (None: forget it)."""
        ...


def session_key(url: str, db: str, username: str) -> str:
    """What a remembered login is filed under: another address, database or user is
    another key, so it is never taken for this one. A digest: the state table's names are
    short, and none of it is secret."""
    digest = hashlib.sha256(f"{url.rstrip('/')}\n{db}\n{username}".encode()).hexdigest()
    return f"login:{digest[:26]}"


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
        memory: SessionMemory | None = None,
        remember: bool = True,
    ) -> None:
        """`memory`: take the login of an earlier run from it, and (with `remember`; a dry
        run writes nothing) keep this run's there."""
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
        self._memory = memory
        self._remember = remember and memory is not None
        self._key = session_key(url, db, username)
        self._ready = False
        """Logged in (or resumed) in this process: a listener logs in once, not per batch."""
        self._relogin = threading.Lock()

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
        """Log in, once per process: with the user id an earlier run kept, where there is
        one (Odoo's `authenticate` pays the password's slow hash, about 330 ms, every time;
        each call checks the password anyway), else with a fresh login, kept for the next."""
        self.connect()
        assert self.client is not None
        if self._ready:
            return
        uid = self._memory.recall_login(self._key) if self._memory is not None else None
        if uid is not None:
            self.client.resume(uid)
        else:
            self._fresh_login(self.client)
        self._ready = True

    def _fresh_login(self, client: OdooClient) -> None:
        try:
            client.login()
        except LoginRefused:
            self._keep(None)
            raise
        self._keep(client.uid)

    def _keep(self, uid: int | None) -> None:
        if self._remember and self._memory is not None:
            self._memory.keep_login(self._key, uid)

    def _call(self, work: Callable[[OdooClient], T]) -> T:
        """A call on the logged-in transport. Refused credentials (a password changed or a
        key revoked since the login that was kept, or during a listener's life): the login
        is forgotten, one fresh login made, and the call made again; a refused fresh login
        ends the run (exit 3)."""
        if not self._ready:
            self.login()
        client = self.client
        assert client is not None
        try:
            answer = work(client)
        except LoginRefused:
            with self._relogin:
                self._ready = False
                log.info("Odoo refused the login in use; logging in again")
                self._fresh_login(client)
                self._ready = True
            return work(client)
        return answer

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]:
        return self._call(lambda client: client.fetch_totals(ids))

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]:
        """Sale orders written at or after `since` (past the cursor `after`), in
        (write_date, id) order, at most `limit` of them."""
        return self._call(lambda client: client.changed_since(since, after, limit))

    def search_records(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> list[dict[str, Any]]:
        """Any model's records (the automation rule's set-up reads ir.model and the like)."""
        return self._call(lambda client: client.search_records(model, domain, fields, what))

    def create_record(self, model: str, values: dict[str, Any], what: str) -> int:
        return self._call(lambda client: client.create_record(model, values, what))

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """A portal's change into Odoo: `action` (odoo.push.METHODS) on one sale order;
        PushRefused where Odoo refuses it."""
        self._call(lambda client: client.push(odoo_id, action, values))

    def answered_at(self) -> datetime | None:
        """Odoo's clock when it last answered (see OdooClient)."""
        return self.client.answered_at() if self.client is not None else None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Odoo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
