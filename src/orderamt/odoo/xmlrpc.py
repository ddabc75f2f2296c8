"""Odoo over XML-RPC (`/xmlrpc/2`), with a timeout on every call."""

from __future__ import annotations

import http.client
import xmlrpc.client
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from xml.parsers.expat import ExpatError

from orderamt.errors import LoginRefused, OdooError, OdooRefused
from orderamt.models import Cursor, OdooTotal
from orderamt.odoo.net import connection_error, http_status_error, server_clock
from orderamt.odoo.push import check_pushed, push_call, refusal
from orderamt.odoo.records import (
    changed_query,
    created_id,
    fields_to_read,
    missing_field_error,
    parse_record_list,
    parse_records,
    record_dicts,
    summary,
)
from orderamt.odoo.retry import NO_RETRIES, RetryPolicy, with_retries
from orderamt.urls import mask_url

T = TypeVar("T")


class _BoundedCalls:
    """A timeout on every connection, and one attempt per call.

    The stock transport waits forever on a silent server, and silently sends a request again
    after a reset connection; orderamt's own retry policy decides about another attempt.
    """

    timeout: float
    date: str | None = None
    """The Date header of this transport's last answer (`server_clock` reads it)."""

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection = super().make_connection(host)  # type: ignore[misc]
        connection.timeout = self.timeout
        return connection

    def request(self, host: Any, handler: str, request_body: bytes, verbose: bool = False) -> Any:
        return self.single_request(host, handler, request_body, verbose)  # type: ignore[attr-defined]

    def parse_response(self, response: http.client.HTTPResponse) -> Any:
        self.date = response.getheader("date")
        return super().parse_response(response)  # type: ignore[misc]


class TimeoutTransport(_BoundedCalls, xmlrpc.client.Transport):  # type: ignore[misc]
    def __init__(self, timeout: float) -> None:
        xmlrpc.client.Transport.__init__(self)
        self.timeout = timeout


class TimeoutSafeTransport(_BoundedCalls, xmlrpc.client.SafeTransport):  # type: ignore[misc]
    def __init__(self, timeout: float) -> None:
        xmlrpc.client.SafeTransport.__init__(self)
        self.timeout = timeout


class XmlRpcOdoo:
    """Reads sale order totals from Odoo 17 and later over XML-RPC."""

    protocol = "xmlrpc"

    def __init__(
        self,
        url: str,
        db: str,
        username: str,
        password: str,
        timeout: float,
        retry: RetryPolicy = NO_RETRIES,
        fields: Sequence[str] = (),
    ) -> None:
        self.url = url.rstrip("/")
        self.extra = tuple(fields)
        """The mapped fields' Odoo names, read beside the amount."""
        self.fields = fields_to_read(self.extra)
        self.retry = retry
        self.db = db
        self.username = username
        self._password = password
        self.timeout = timeout
        self._uid: int | None = None
        self._proxies: dict[str, xmlrpc.client.ServerProxy] = {}

    def _proxy(self, service: str) -> xmlrpc.client.ServerProxy:
        """One proxy per service, so its connection is kept alive between calls."""
        if service not in self._proxies:
            self._proxies[service] = self._new_proxy(service)
        return self._proxies[service]

    def close(self) -> None:
        """Close the kept-alive connections. A run that failed part-way closes while its
        prefetch thread may still be making a proxy: close a copy, never the dict being
        changed (that was 'dictionary changed size during iteration', a second traceback
        after the run's own error)."""
        proxies, self._proxies = list(self._proxies.values()), {}
        for proxy in proxies:
            proxy("close")()

    def answered_at(self) -> datetime | None:
        """Odoo's clock when it last answered a call on its records."""
        proxy = self._proxies.get("object")
        transport = proxy("transport") if proxy is not None else None
        return server_clock(transport.date) if isinstance(transport, _BoundedCalls) else None

    def __enter__(self) -> XmlRpcOdoo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _new_proxy(self, service: str) -> xmlrpc.client.ServerProxy:
        transport: xmlrpc.client.Transport
        if self.url.startswith("https:"):
            transport = TimeoutSafeTransport(self.timeout)
        else:
            transport = TimeoutTransport(self.timeout)
        return xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/{service}", transport=transport)

    def _call(self, what: str, call: Callable[[], T]) -> T:
        return with_retries(what, lambda: self._attempt(what, call), self.retry)

    def _attempt(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except xmlrpc.client.Fault as fault:
            raise self._fault_error(fault, what) from None
        except xmlrpc.client.ProtocolError as exc:
            # The error page may be left unread on the connection: start afresh next time.
            self.close()
            raise http_status_error(exc.errcode, exc.errmsg, self.url, what) from None
        except (ExpatError, xmlrpc.client.ResponseError):
            self.close()
            raise OdooError(
                f"Odoo at {mask_url(self.url)} answered {what} with something that is not "
                "XML-RPC (an HTML page? check ODOO_URL)"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise connection_error(exc, self.url, what, self.timeout) from None

    def _fault_error(self, fault: xmlrpc.client.Fault, what: str) -> OdooError:
        message = summary(str(fault.faultString))
        if "does not exist" in message and "database" in message:
            return OdooError(f"Odoo has no database '{self.db}' (check ODOO_DB)")
        if fault.faultCode == 3 and message == "Access Denied":
            return self._login_refused()
        if fault.faultCode == 2 and f"(Record: res.users({self._uid},)" in fault.faultString:
            return LoginRefused(f"Odoo has no user id {self._uid} on database '{self.db}' any more")
        if "Too many login failures" in message:
            return OdooError(f"Odoo refused the login: {message}")
        if fault.faultCode == 4:
            return OdooRefused(f"Odoo refused {what}: {message}")
        missing = missing_field_error(message, self.extra)
        return missing or OdooError(f"Odoo answered {what} with an error: {message}")

    def _login_refused(self) -> OdooError:
        return LoginRefused(
            f"Odoo refused the login for '{self.username}' on database '{self.db}' "
            "(check ODOO_USERNAME and ODOO_PASSWORD)"
        )

    @property
    def uid(self) -> int | None:
        """The user id the calls are made as (None before the login)."""
        return self._uid

    def resume(self, uid: int) -> None:
        """Take a user id from an earlier login instead of logging in: Odoo checks the
        password with every call anyway (and caches that check, where `authenticate` pays
        the password's slow hash every time)."""
        self._uid = uid

    def login(self) -> None:
        """Authenticate; every later call reuses the user id."""
        uid = self._call(
            "the login",
            lambda: self._proxy("common").authenticate(self.db, self.username, self._password, {}),
        )
        if uid is False:
            raise self._login_refused()
        if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
            raise OdooError(f"Odoo answered the login with something unusable: {uid!r:.40}")
        self._uid = uid

    def _search_read(
        self, what: str, domain: list[Any], options: dict[str, Any], model: str = "sale.order"
    ) -> Any:
        """One search_read (on sale.order unless said), logging in first where not yet done."""
        return self._execute(what, model, "search_read", [domain], options)

    def _execute(
        self, what: str, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        if self._uid is None:
            self.login()
        uid = self._uid
        return self._call(
            what,
            lambda: self._proxy("object").execute_kw(
                self.db, uid, self._password, model, method, args, kwargs
            ),
        )

    def search_records(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> list[dict[str, Any]]:
        """Any model's records, as search_read gives them."""
        return record_dicts(self._search_read(what, domain, {"fields": fields}, model), what)

    def create_record(self, model: str, values: dict[str, Any], what: str) -> int:
        """One record created (`create` with a dict answers its id)."""
        return created_id(self._execute(what, model, "create", [values], {}), what)

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]:
        """One search_read for the whole batch of ids."""
        if not ids:
            return {}
        answer = self._search_read(
            "search_read on sale.order", [("id", "in", list(ids))], {"fields": self.fields}
        )
        return parse_records(answer, set(ids), self.extra)

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]:
        """A page of at most `limit` orders written at or after `since`, past `after`."""
        domain, order = changed_query(since, after)
        answer = self._search_read(
            "search_read of changed sale orders",
            domain,
            {"fields": self.fields, "order": order, "limit": limit},
        )
        return parse_record_list(answer, self.extra)

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """One portal change into Odoo (`odoo.push`): Odoo's UserError or AccessError (a
        locked order, missing rights, an order gone) is this order's PushRefused."""
        method, more, kwargs = push_call(action, values)
        what = f"{method} on sale order {odoo_id}"
        if self._uid is None:
            self.login()
        uid = self._uid

        def call() -> Any:
            try:
                return self._proxy("object").execute_kw(
                    self.db, uid, self._password, "sale.order", method, [[odoo_id], *more], kwargs
                )
            except xmlrpc.client.Fault as fault:
                if fault.faultCode in (2, 4):
                    raise refusal(str(fault.faultString)) from None
                raise

        check_pushed(self._call(what, call), what)
