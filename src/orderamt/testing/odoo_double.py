"""OdooDouble: a real HTTP server on 127.0.0.1 that answers like Odoo 17, 18 or 19.

Tests and `orderamt demo` talk to it over the network exactly as they would to Odoo
(XML-RPC on every version, JSON-2 on 19), so a client's timeouts, keep-alive, status
handling and parsing are all exercised. Knobs make it slow (`latency`), make it fail the
ways a production Odoo and its proxy fail (`fail`), and count what it was asked (`calls`).

    with OdooDouble(version=19, api_key="secret") as odoo:
        odoo.add_order(id=1, amount_total=950.0, state="sale")
        odoo.fail("http", status=502, after=2, times=1, on="search_read")
        ...  # point the client at odoo.url
        assert odoo.calls["search_read"] == 3
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from orderamt.testing import _json2, _xmlrpc
from orderamt.testing._automation import send_webhook
from orderamt.testing._failures import DEFAULT_FAULT, FAIL_MODES, FailMode, Failure
from orderamt.testing._faults import ACCESS_ERROR_SALE_ORDER, access_error, injected_fault
from orderamt.testing._http import Call, Request, Response, login_page, not_found, proxy_error
from orderamt.testing._odoo import DEFAULT_WRITE_DATE, Database
from orderamt.testing._server import HANG, RESET, Drop, Server

# bench/servers.py looks the request handler up here, by this name.
from orderamt.testing._server import Handler as _Handler  # noqa: F401
from orderamt.times import odoo_time, utc_now

"""The User-Agent Odoo's webhooks arrive with (odoo-recordings/odoo1*-webhooks.jsonl)."""

_STOP_TIMEOUT = 2.0  # seconds stop() gives open connections to wind down


class OdooDouble:
    """An Odoo server for tests: real HTTP, Odoo's answers, and knobs to make it misbehave.

    Use it as a context manager, or call `start()` and `stop()`. Every attribute may be
    read or set while the server runs; the records in `orders` are served live.
    """

    def __init__(
        self,
        version: int = 18,
        db: str = "odoo",
        login: str = "admin",
        password: str = "admin",
        uid: int = 2,
        api_key: str | None = None,
        sale_stock: bool = True,
        admin: bool = True,
    ) -> None:
        """`sale_stock=False` poses as a database without the module sale_stock: its orders
        have no delivery_status, and asking for it is Odoo's invalid-field error."""
        if not isinstance(version, int) or version < 17:
            raise ValueError(f"OdooDouble serves Odoo 17 and later, not {version!r}")
        self.version = version
        self.db = db
        self.login = login
        self.password = password
        self.uid = uid
        self.api_key = api_key
        self.latency = 0.0
        """Seconds slept before answering each request."""
        self.calls: Counter[str] = Counter()
        """Requests received, by method name ("search_read", "authenticate", "version")."""
        self.requests: list[tuple[str, str, str]] = []
        """(path, method name, argument summary) of each request received, for debugging."""
        self.commit_delay = 0.05
        """Seconds Odoo 17 and 18 take to commit a `save` once its webhook was answered."""
        self._commits: list[threading.Timer] = []
        self.on_call: Callable[[str], None] | None = None
        """Called with the method name of each request, in the server's thread, before the
        answer: a test can change the world while the client waits on Odoo."""
        self._odoo = Database(version, db, login, password, uid, api_key, sale_stock)
        self._odoo.admin = admin
        """`admin=False`: the user is not in Settings (base.group_system), so reading
        ir.model and creating automation rules is Odoo's AccessError."""
        self._failures: list[Failure] = []
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> OdooDouble:
        """Listen on a free port of 127.0.0.1; does nothing if already started."""
        if self._server is None:
            server = Server(self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"odoo-double-{server.port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop listening and close every connection, hung ones too; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections(_STOP_TIMEOUT)
        server.server_close()
        thread.join(_STOP_TIMEOUT)

    def __enter__(self) -> OdooDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def login_latency(self) -> float:
        """Seconds Odoo spends checking a password against its hash, on top of `latency`:
        on every `authenticate`, and on the first `execute_kw` with each (uid, password)
        (Odoo caches that check). 0 by default; the real 17.0, 18.0 and 19.0 took about
        0.33 s (`odoo-facts.md`). JSON-2's API keys never pay it."""
        return self._odoo.hash_seconds

    @login_latency.setter
    def login_latency(self, seconds: float) -> None:
        self._odoo.hash_seconds = seconds

    @property
    def password_hashes(self) -> int:
        """How many times a password was checked against its hash (each paid
        `login_latency`): every `authenticate`, and each uncached `execute_kw` check."""
        return self._odoo.hashes

    def change_password(self, password: str) -> None:
        """The user's password changed in Odoo: the old one is refused from now on."""
        self.password = password
        self._odoo.change_secrets(password, self.api_key)

    def revoke_api_key(self) -> None:
        """The API key was revoked (or expired): refused from now on, over both APIs."""
        self.api_key = None
        self._odoo.change_secrets(None, None)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("the OdooDouble is not started (use `with` or start())")
        return f"http://127.0.0.1:{self._server.port}"

    # -- records --

    def add_order(
        self,
        id: int,
        name: str | None = None,
        amount_total: Any = 0.0,
        state: str = "draft",
        currency: Any = (1, "USD"),
        write_date: str = DEFAULT_WRITE_DATE,
        date_order: str | None = None,
        invoice_status: Any = "no",
        delivery_status: Any = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add (or replace) one sale order; its values are served exactly as given.

        `name` defaults to "S" and the id on five digits, `date_order` to `write_date`,
        `currency` is `(id, code)` or False. `invoice_status` defaults to "no" and
        `delivery_status` to False (no picking), as on a new order; a delivery_status
        without sale_stock is a ValueError. Other keywords become fields of the order.
        Returns the stored record (the same dict as `orders[id]`).
        """
        return self._odoo.add_order(
            id,
            name,
            amount_total,
            state,
            currency,
            write_date,
            date_order,
            invoice_status,
            delivery_status,
            **fields,
        )

    def add_orders(self, orders: Iterable[Mapping[str, Any]]) -> None:
        """Add many orders, each a mapping of `add_order`'s arguments."""
        self._odoo.add_orders(orders)

    @property
    def orders(self) -> dict[int, dict[str, Any]]:
        """The sale orders by id, as Odoo field names; a test may change them at any time."""
        return self._odoo.orders

    @property
    def admin(self) -> bool:
        """False: a Sales user (no Settings, no invoicing rights), as `OdooDouble(admin=False)`."""
        return self._odoo.admin

    @admin.setter
    def admin(self, value: bool) -> None:
        self._odoo.admin = value

    @property
    def draft_invoices(self) -> set[int]:
        """The orders that have a draft invoice (invoices are not modelled otherwise): a
        Sales user may not cancel them, as on a real server."""
        return self._odoo.draft_invoices

    @property
    def automations(self) -> dict[int, dict[str, Any]]:
        """The automation rules (base.automation) created over the API, by id."""
        return self._odoo.automations

    @property
    def server_actions(self) -> dict[int, dict[str, Any]]:
        """Their actions (ir.actions.server), by id."""
        return self._odoo.server_actions

    def field_id(self, model: str, name: str) -> int:
        """The id ir.model.fields gives a field."""
        return self._odoo.field_id(model, name)

    def change(self, id: int, **fields: Any) -> dict[str, Any]:
        """Staff save the order in Odoo: set `fields` and move `write_date` to now, in UTC
        with whole seconds, as Odoo stamps it (the start of the saving transaction).

        `write_date=...` among `fields` stamps that time instead (a late commit). `state`,
        `invoice_status` and `delivery_status` must be values of their selections (a
        ValueError otherwise), so a test cannot show an order Odoo never would."""
        order = self._odoo.orders[id]
        self._odoo.check_statuses(fields)
        stamp = fields.pop("write_date", None) or odoo_time(utc_now())
        order.update(fields)
        order["write_date"] = stamp
        return order

    def write(self, ids: Sequence[int], *, micro: int = 365950, **fields: Any) -> str:
        """One `write` call on several orders, as a mass action, an import or a module
        install makes it: one transaction, so every order it touches gets the same
        write_date, which Odoo keeps with microseconds (`micro`) and sends cut to whole
        seconds. Returns that second."""
        self._odoo.check_statuses(fields)
        second = odoo_time(utc_now())
        for id in ids:
            order = self._odoo.orders[id]
            order.update(fields)
            order["write_date"] = f"{second}.{micro:06d}"
        return second

    def save(self, id: int, hook_url: str, **fields: Any) -> int:
        """Staff save the order with an automation rule on it that posts to `hook_url`, the
        webhook leaving when each version sends it: 19 after the save is committed; 17 and
        18 inside the saving transaction, so the receiver is answered while the order still
        reads as before, and the save commits `commit_delay` seconds later (in the
        background; `committed()` waits for it). Returns the receiver's status."""
        if self.version >= 19:
            self.change(id, **fields)
            return self.send_webhook(hook_url, self.webhook_payload(id))[0]
        started = odoo_time(utc_now())
        payload = self.webhook_payload(id)
        payload.update((name, value) for name, value in fields.items() if name in payload)
        status = self.send_webhook(hook_url, payload)[0]
        commit = threading.Timer(
            self.commit_delay, lambda: self.change(id, **{"write_date": started, **fields})
        )
        commit.daemon = True
        with self._lock:
            self._commits = [c for c in self._commits if c.is_alive()] + [commit]
        commit.start()
        return status

    def committed(self, timeout: float = 10.0) -> None:
        """Wait until every `save` so far is committed."""
        with self._lock:
            pending = list(self._commits)
        for commit in pending:
            commit.join(timeout)

    def webhook_payload(self, id: int, *, stale: bool = False) -> dict[str, Any]:
        """What Odoo's "Send Webhook Notification" posts for this order, as recorded:
        many2one fields as bare ids and `write_date` with microseconds. `stale` gives the
        `write_date` from before the save, as Odoo sends after a line-only change."""
        return self._odoo.webhook_payload(id, stale=stale)

    def send_webhook(self, url: str, payload: Mapping[str, Any] | bytes) -> tuple[int, bytes]:
        """POST a webhook the way Odoo does (python-requests, JSON, 1 s timeout on 18.0;
        never retried): returns the receiver's status and body."""
        return send_webhook(url, payload)

    # -- knobs --

    def fail(
        self,
        mode: FailMode,
        *,
        status: int = 502,
        fault: tuple[int, str] = DEFAULT_FAULT,
        after: int = 0,
        times: int | None = None,
        on: str | None = None,
    ) -> None:
        """Make requests fail, the way production Odoo or its proxy fails.

        mode: "http" (a proxy's HTML error page with `status`), "hang" (never answered),
        "reset" (connection closed without an answer), "html" (200 with the login page),
        "fault" (XML-RPC `Fault(*fault)`, JSON-2 a 500 error), "access" (the user may not
        read sale orders: Fault 4 / JSON-2 403).
        Only requests whose method is `on` count (None: all); the first `after` of them are
        answered normally, then `times` of them fail (None: all later ones). Rules stack:
        the first rule added that fails a request handles it.
        """
        if mode not in FAIL_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; one of {', '.join(FAIL_MODES)}")
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status!r}")
        if after < 0 or (times is not None and times < 0):
            raise ValueError("after and times cannot be negative")
        rule = Failure(mode, status, (int(fault[0]), str(fault[1])), after, times, on)
        with self._lock:
            self._failures.append(rule)

    def clear_failures(self) -> None:
        """Answer normally again; also forgets failed logins (Odoo's login cooldown)."""
        with self._lock:
            self._failures.clear()
        self._odoo.forget_login_failures()

    def reset_calls(self) -> None:
        """Forget the requests counted so far."""
        with self._lock:
            self.calls.clear()
            self.requests.clear()

    # -- serving --

    def _exchange(self, request: Request) -> Response | Drop:
        """What to do with one request: an answer, or no answer at all."""
        call = self._route(request)
        failure = self._note(request, call)
        if self.on_call is not None:
            self.on_call(call.method)
        if failure is not None and failure.mode == "hang":
            return HANG
        self._sleep(self.latency)
        if failure is None:
            return call.answer(None)
        if failure.mode == "http":
            return proxy_error(failure.status)
        if failure.mode == "html":
            return login_page()
        if failure.mode == "reset":
            return RESET
        if failure.mode == "access":
            return call.answer(access_error(ACCESS_ERROR_SALE_ORDER))
        return call.answer(injected_fault(*failure.fault))

    def _route(self, request: Request) -> Call:
        path, odoo = request.path, self._odoo
        if path.startswith("/xmlrpc/"):
            parts = path.split("/")[2:]  # /xmlrpc/2/<service>, or /xmlrpc/<service> (v1)
            if parts[:1] == ["2"]:
                parts = parts[1:]
            if len(parts) == 1 and parts[0]:
                return _xmlrpc.prepare(odoo, request, parts[0])
        elif path == "/json/2" or path.startswith("/json/2/"):
            return _json2.prepare(odoo, request)
        elif path == "/web/webclient/version_info":
            return _json2.prepare_version_info(odoo, request)
        elif path == "/web/version":
            return _json2.prepare_web_version(odoo)
        elif path == "/web/login" and request.verb == "GET":
            return Call("", "login page", lambda _: login_page(), rpc=False)
        return Call("", f"{request.verb} {path}", lambda _: not_found(), rpc=False)

    def _note(self, request: Request, call: Call) -> Failure | None:
        """Count the request, and pick the failure rule that takes it, if any."""
        with self._lock:
            if call.method:
                self.calls[call.method] += 1
            self.requests.append((request.path, call.method, call.summary))
            for rule in self._failures:
                if rule.matches(call) and rule.fires():
                    return rule
        return None

    def _sleep(self, seconds: float) -> None:
        server = self._server
        if seconds > 0 and server is not None:
            server.stopping.wait(seconds)  # cut short when the double stops
