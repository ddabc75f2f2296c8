"""OdooDouble through real clients: its records, its knobs, and how it fails.

Every test talks HTTP to the double with the clients orderamt uses (xmlrpc.client with a
timeout transport, urllib and http.client for JSON-2), never by calling it directly.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.parsers.expat import ExpatError

import pytest

from orderamt.odoo.xmlrpc import TimeoutTransport
from orderamt.testing import OdooDouble

FIELDS = ["name", "amount_total", "state", "currency_id", "write_date"]
KEY = "0123456789abcdef0123456789abcdef01234567"


@contextmanager
def proxy(odoo: OdooDouble, service: str, timeout: float = 5.0) -> Iterator[Any]:
    url = f"{odoo.url}/xmlrpc/2/{service}"
    with xmlrpc.client.ServerProxy(url, transport=TimeoutTransport(timeout)) as server:
        yield server


def search_read(
    odoo: OdooDouble,
    domain: list[Any],
    password: str = "admin",
    timeout: float = 5.0,
    **kwargs: Any,
) -> Any:
    with proxy(odoo, "object", timeout) as models:
        return models.execute_kw(
            odoo.db,
            2,
            password,
            "sale.order",
            "search_read",
            [domain],
            {"fields": FIELDS, **kwargs},
        )


def ids_of(records: list[dict[str, Any]]) -> list[int]:
    return [record["id"] for record in records]


def json2(
    odoo: OdooDouble,
    path: str,
    body: Any,
    key: str | None = KEY,
    timeout: float = 5.0,
) -> tuple[int, str, bytes]:
    """POST a JSON-2 call with urllib (which follows redirects); status, type and body."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"bearer {key}"
    request = urllib.request.Request(
        f"{odoo.url}/json/2/{path}", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def seed(odoo: OdooDouble, count: int = 5) -> None:
    odoo.add_orders(
        {"id": i, "amount_total": 100.0 * i, "state": "sale"} for i in range(1, count + 1)
    )


# -- what it serves -------------------------------------------------------------------------------


def test_url_is_local_and_has_no_trailing_slash() -> None:
    """The double listens on a free port of 127.0.0.1 and says so without a trailing slash."""
    with OdooDouble() as odoo:
        assert odoo.url.startswith("http://127.0.0.1:")
        assert not odoo.url.endswith("/")
        assert int(odoo.url.rsplit(":", 1)[1]) > 0


@pytest.mark.parametrize("version", [17, 18, 19])
def test_version_answers_with_the_version_posed_as(version: int) -> None:
    """version() over XML-RPC and GET /web/version give the numbers of the version posed as."""
    with OdooDouble(version=version) as odoo:
        with proxy(odoo, "common") as common:
            info = common.version()
        with urllib.request.urlopen(f"{odoo.url}/web/version", timeout=5) as response:
            web = json.load(response)
    assert info["server_version"] == info["server_serie"] == f"{version}.0"
    assert info["server_version_info"] == [version, 0, 0, "final", 0, ""]
    assert info["protocol_version"] == 1
    assert web == {"version_info": [version, 0, 0, "final", 0, ""], "version": f"{version}.0"}


def test_authenticate_takes_the_password_or_the_api_key() -> None:
    """authenticate gives the uid for the password or the API key, and False for anything else."""
    double = OdooDouble(db="shop", login="robot", password="pw", uid=7, api_key=KEY)
    with double as odoo, proxy(odoo, "common") as common:
        assert common.authenticate("shop", "robot", "pw", {}) == 7
        assert common.authenticate("shop", "robot", KEY, {}) == 7
        assert common.authenticate("shop", "robot", "wrong", {}) is False
        assert common.authenticate("shop", "admin", "pw", {}) is False
        assert common.login("shop", "robot", "pw") == 7
        with pytest.raises(xmlrpc.client.Fault) as fault:
            common.authenticate("nodb", "robot", "pw", {})
    assert fault.value.faultCode == 1
    assert fault.value.faultString.splitlines()[-1].endswith('database "nodb" does not exist')


def test_execute_kw_checks_password_uid_and_model_like_odoo() -> None:
    """execute_kw faults with Odoo's codes for a wrong password, uid or model, and takes the key."""
    with OdooDouble(api_key=KEY) as odoo:
        seed(odoo, 1)
        with proxy(odoo, "object") as models:
            assert models.execute_kw("odoo", 2, KEY, "sale.order", "search_count", [[]]) == 1
            assert models.execute("odoo", 2, "admin", "sale.order", "search", []) == [1]
            faults = []
            for uid, password, model in [(2, "x", "sale.order"), (99, "admin", "sale.order")]:
                with pytest.raises(xmlrpc.client.Fault) as fault:
                    models.execute_kw("odoo", uid, password, model, "search_count", [[]])
                faults.append((fault.value.faultCode, fault.value.faultString))
            with pytest.raises(xmlrpc.client.Fault) as fault:
                models.execute_kw("odoo", 2, "admin", "sale.orderx", "search_count", [[]])
            faults.append((fault.value.faultCode, fault.value.faultString))
    assert faults == [
        (3, "Access Denied"),
        (2, "Record does not exist or has been deleted.\n(Record: res.users(99,), User: 99)"),
        (2, "Object sale.orderx doesn't exist"),
    ]


def test_search_read_answers_in_odoo_default_order_without_missing_ids() -> None:
    """search_read leaves out missing ids and answers by date_order desc, then id desc."""
    with OdooDouble() as odoo:
        odoo.add_order(id=1, date_order="2026-01-02 00:00:00")
        odoo.add_order(id=2, date_order="2026-01-01 00:00:00")
        odoo.add_order(id=3, date_order="2026-01-02 00:00:00")
        records = search_read(odoo, [("id", "in", [2, 1, 3, 999999])])
    assert ids_of(records) == [3, 1, 2]
    assert list(records[0]) == ["id", *FIELDS]


def test_read_answers_in_the_order_of_the_ids() -> None:
    """read answers in the order of the ids asked for, with `id` even when not asked for."""
    with OdooDouble() as odoo:
        seed(odoo, 3)
        with proxy(odoo, "object") as models:
            records = models.execute_kw(
                "odoo", 2, "admin", "sale.order", "read", [[2, 999, 3, 1]], {"fields": ["name"]}
            )
    assert records == [
        {"id": 2, "name": "S00002"},
        {"id": 3, "name": "S00003"},
        {"id": 1, "name": "S00001"},
    ]


def test_values_are_sent_exactly_as_given() -> None:
    """Bad amounts a test injects reach the client unchanged, over XML-RPC and JSON-2 alike."""
    bad = {1: "abc", 2: -5.0, 3: False, 4: 12.120000000000001}
    with OdooDouble(version=19, api_key=KEY) as odoo:
        for order_id, amount in bad.items():
            odoo.add_order(id=order_id, amount_total=amount, currency=False)
        by_xmlrpc = search_read(odoo, [("id", "in", list(bad))])
        status, _, body = json2(odoo, "sale.order/search_read", {"domain": [], "fields": FIELDS})
    by_json2 = json.loads(body)
    assert status == 200
    for records in (by_xmlrpc, by_json2):
        assert {r["id"]: r["amount_total"] for r in records} == bad
        assert {r["currency_id"] for r in records} == {False}
    assert repr(by_json2[0]["amount_total"]) == "12.120000000000001"


def test_orders_can_change_between_calls() -> None:
    """A change to `orders` shows in the next answer, as a write in Odoo would."""
    with OdooDouble() as odoo:
        seed(odoo, 1)
        before = search_read(odoo, [("id", "=", 1)])
        odoo.orders[1]["amount_total"] = 42.5
        odoo.orders[1]["write_date"] = "2026-12-01 08:00:00"
        after = search_read(odoo, [("id", "=", 1)])
    assert before[0]["amount_total"] == 100.0
    assert (after[0]["amount_total"], after[0]["write_date"]) == (42.5, "2026-12-01 08:00:00")


def test_domain_keyset_cursor_over_write_date_and_id() -> None:
    """A (write_date, id) keyset domain with '|' and '&' selects what PostgreSQL would."""
    with OdooDouble() as odoo:
        odoo.add_order(id=1, write_date="2026-01-01 10:00:00")
        odoo.add_order(id=2, write_date="2026-01-01 10:00:00")
        odoo.add_order(id=3, write_date="2026-01-01 09:00:00")
        odoo.add_order(id=4, write_date="2026-01-01 11:00:00")
        cursor = "2026-01-01 10:00:00"
        domain = [
            "|",
            ("write_date", ">", cursor),
            "&",
            ("write_date", "=", cursor),
            ("id", ">", 1),
        ]
        records = search_read(odoo, domain, order="write_date asc, id asc", limit=10)
    assert ids_of(records) == [2, 4]


def test_unknown_fields_fault_as_odoo_words_them() -> None:
    """An unknown field in `fields` or in the domain is Fault 1 with Odoo's last line."""
    with OdooDouble(version=18) as odoo:
        seed(odoo, 1)
        with pytest.raises(xmlrpc.client.Fault) as in_fields:
            search_read(odoo, [], fields=["name", "nope"])
        with pytest.raises(xmlrpc.client.Fault) as in_domain:
            search_read(odoo, [("nope", "=", 1)])
    assert in_fields.value.faultCode == in_domain.value.faultCode == 1
    assert in_fields.value.faultString.splitlines()[-1] == (
        "ValueError: Invalid field 'nope' on model 'sale.order'"
    )
    assert in_domain.value.faultString.splitlines()[-1] == (
        "ValueError: Invalid field sale.order.nope in leaf ('nope', '=', 1)"
    )


STATUSES = ["state", "invoice_status", "delivery_status"]


def statuses(records: list[dict[str, Any]]) -> dict[int, tuple[Any, ...]]:
    return {record["id"]: tuple(record[name] for name in STATUSES) for record in records}


def test_status_fields_are_read_over_xmlrpc_and_json2() -> None:
    """state, invoice_status and delivery_status come as given, a new order's as Odoo makes it
    (draft, "no", False for no picking), over XML-RPC and JSON-2 alike."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.add_order(id=1, state="sale", invoice_status="to invoice", delivery_status="partial")
        odoo.add_order(id=2)
        odoo.add_orders([{"id": 3, "state": "cancel"}])
        by_xmlrpc = search_read(odoo, [], fields=STATUSES)
        status, _, body = json2(odoo, "sale.order/search_read", {"domain": [], "fields": STATUSES})
    assert status == 200
    for records in (by_xmlrpc, json.loads(body)):
        assert statuses(records) == {
            1: ("sale", "to invoice", "partial"),
            2: ("draft", "no", False),
            3: ("cancel", "no", False),
        }


def test_change_of_a_status_moves_write_date() -> None:
    """change() of state, invoice_status or delivery_status is a save: a write_date poll sees
    it. A value outside the field's selection is refused before anything changes."""
    old = "2026-01-01 00:00:00"
    with OdooDouble() as odoo:
        for order_id in (1, 2, 3):
            odoo.add_order(id=order_id, write_date=old)
        odoo.change(1, state="sale")
        odoo.change(2, invoice_status="invoiced", delivery_status="full")
        odoo.change(2, delivery_status=False)
        for bad in ({"state": "done"}, {"invoice_status": False}, {"delivery_status": "late"}):
            with pytest.raises(ValueError, match="is not one of"):
                odoo.change(3, **bad)
        records = search_read(odoo, [("write_date", ">", old)], fields=STATUSES)
    assert statuses(records) == {
        1: ("sale", "no", False),
        2: ("draft", "invoiced", False),
    }
    assert odoo.orders[3]["write_date"] == old


def test_delivery_status_without_sale_stock_is_an_invalid_field() -> None:
    """Without sale_stock, delivery_status in fields or domain is Odoo's invalid-field error,
    over XML-RPC and JSON-2, and the double refuses to give an order one."""
    with OdooDouble(version=19, api_key=KEY, sale_stock=False) as odoo:
        seed(odoo, 1)
        assert search_read(odoo, [], fields=["state", "invoice_status"]) == [
            {"id": 1, "state": "sale", "invoice_status": "no"}
        ]
        with pytest.raises(xmlrpc.client.Fault) as in_fields:
            search_read(odoo, [], fields=["name", "delivery_status"])
        with pytest.raises(xmlrpc.client.Fault) as in_domain:
            search_read(odoo, [("delivery_status", "=", "full")])
        asked = {"domain": [], "fields": ["name", "delivery_status"]}
        status, _, body = json2(odoo, "sale.order/search_read", asked)
        with pytest.raises(ValueError, match="sale_stock"):
            odoo.add_order(id=2, delivery_status="full")
        with pytest.raises(ValueError, match="sale_stock"):
            odoo.add_orders([{"id": 2, "delivery_status": "pending"}])
        with pytest.raises(ValueError, match="sale_stock"):
            odoo.change(1, delivery_status=False)
    assert in_fields.value.faultString.splitlines()[-1] == (
        "ValueError: Invalid field 'delivery_status' on 'sale.order'"
    )
    assert in_domain.value.faultString.splitlines()[-1] == (
        "ValueError: Invalid field sale.order.delivery_status in condition "
        "('delivery_status', '=', 'full')"
    )
    assert status == 500
    assert json.loads(body)["message"] == "Invalid field 'delivery_status' on 'sale.order'"
    assert "delivery_status" not in odoo.orders[1]


@pytest.mark.parametrize("sale_stock", [True, False])
def test_fields_get_lists_the_status_fields_with_their_selections(sale_stock: bool) -> None:
    """fields_get gives the three selections as Odoo 17-19 have them; delivery_status only
    with sale_stock."""
    attributes = ["type", "selection"]
    with OdooDouble(version=19, api_key=KEY, sale_stock=sale_stock) as odoo:
        with proxy(odoo, "object") as models:
            by_xmlrpc = models.execute_kw(
                "odoo", 2, "admin", "sale.order", "fields_get", [], {"attributes": attributes}
            )
        status, _, body = json2(odoo, "sale.order/fields_get", {"attributes": attributes})
    assert status == 200
    for described in (by_xmlrpc, json.loads(body)):
        assert [key for key, _ in described["state"]["selection"]] == [
            "draft",
            "sent",
            "sale",
            "cancel",
        ]
        assert described["invoice_status"] == {
            "type": "selection",
            "selection": [
                ["upselling", "Upselling Opportunity"],
                ["invoiced", "Fully Invoiced"],
                ["to invoice", "To Invoice"],
                ["no", "Nothing to Invoice"],
            ],
        }
        if not sale_stock:
            assert "delivery_status" not in described
            continue
        assert described["delivery_status"] == {
            "type": "selection",
            "selection": [
                ["pending", "Not Delivered"],
                ["started", "Started"],
                ["partial", "Partially Delivered"],
                ["full", "Fully Delivered"],
            ],
        }


def test_currency_and_user_context_are_served() -> None:
    """res.currency gives the decimal places of the orders' currencies; context_get the uid."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.add_order(id=1, currency=(1, "USD"))
        odoo.add_order(id=2, currency=(125, "EUR"))
        with proxy(odoo, "object") as models:
            currencies = models.execute_kw(
                "odoo",
                2,
                "admin",
                "res.currency",
                "read",
                [[125, 1]],
                {"fields": ["name", "decimal_places"]},
            )
        status, _, body = json2(odoo, "res.users/context_get", {})
    assert currencies == [
        {"id": 125, "name": "EUR", "decimal_places": 2},
        {"id": 1, "name": "USD", "decimal_places": 2},
    ]
    assert (status, json.loads(body)) == (200, {"lang": "en_US", "tz": False, "uid": 2})


# -- JSON-2 ---------------------------------------------------------------------------------------


def test_json2_reads_with_a_bearer_key_on_19() -> None:
    """On 19, JSON-2 search_read and read answer bare JSON records, in Odoo's orders."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        seed(odoo, 3)
        status, content_type, body = json2(
            odoo, "sale.order/search_read", {"domain": [["id", "in", [1, 3]]], "fields": FIELDS}
        )
        _, _, read = json2(odoo, "sale.order/read", {"ids": [3, 1, 2], "fields": ["name"]})
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    assert ids_of(json.loads(body)) == [3, 1]
    assert ids_of(json.loads(read)) == [3, 1, 2]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "User not authenticated, use an API Key with a Bearer Authorization header."),
        ("not-the-key", "Invalid apikey"),
    ],
)
def test_json2_refuses_a_missing_or_wrong_key(key: str | None, message: str) -> None:
    """Without the right bearer key, JSON-2 answers 401 with Odoo's error body and header."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        host, port = odoo.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            connection.request(
                "POST", "/json/2/sale.order/search_count", b'{"domain": []}', headers
            )
            response = connection.getresponse()
            error = json.loads(response.read())
        finally:
            connection.close()
    assert response.status == 401
    assert response.getheader("WWW-Authenticate") == "Bearer "
    assert error["name"] == "werkzeug.exceptions.Unauthorized"
    assert error["arguments"] == [message, 401]


def test_json2_on_18_redirects_to_the_login_page() -> None:
    """On 18, a JSON-2 call is redirected; a client that follows ends on an HTML page with 200."""
    with OdooDouble(version=18, api_key=KEY) as odoo:
        status, content_type, body = json2(odoo, "sale.order/search_read", {"domain": []})
        assert odoo.calls["search_read"] == 1
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert b"oe_login_form" in body


def test_json2_on_17_is_not_found() -> None:
    """On 17, a JSON-2 path is an HTML 404 page."""
    with OdooDouble(version=17, api_key=KEY) as odoo:
        status, content_type, body = json2(odoo, "sale.order/search_read", {"domain": []})
    assert (status, content_type) == (404, "text/html;charset=utf-8")
    assert b"Error 404" in body


# -- knobs ----------------------------------------------------------------------------------------


def test_latency_delays_every_answer() -> None:
    """With `latency` set, each XML-RPC and JSON-2 answer takes at least that long."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.latency = 0.2
        started = time.monotonic()
        with proxy(odoo, "common") as common:
            common.version()
        xmlrpc_took = time.monotonic() - started
        started = time.monotonic()
        json2(odoo, "res.users/context_get", {})
        json2_took = time.monotonic() - started
    assert xmlrpc_took >= 0.2
    assert json2_took >= 0.2


def test_hang_times_the_client_out_and_stop_still_returns_quickly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A hung request times a 0.5 s client out, and stop() returns at once all the same."""
    odoo = OdooDouble().start()
    try:
        odoo.fail("hang")
        started = time.monotonic()
        with pytest.raises(TimeoutError), proxy(odoo, "common", timeout=0.5) as common:
            common.version()
        assert time.monotonic() - started >= 0.5
        # A second client still waiting when the double stops: stop() must not wait for it.
        host, port = odoo.url.removeprefix("http://").split(":")
        waiting = http.client.HTTPConnection(host, int(port), timeout=5)
        waiting.request("GET", "/web/version")
    finally:
        started = time.monotonic()
        odoo.stop()
        stop_took = time.monotonic() - started
    with pytest.raises(ConnectionError):
        waiting.getresponse()
    waiting.close()
    # Not the client's 5 s timeout: stop() drops the hung request instead of waiting for it.
    assert stop_took < 4.0
    assert capsys.readouterr().err == ""


def test_http_failure_is_the_proxy_status_with_an_html_page() -> None:
    """fail("http") answers a proxy's HTML page: a ProtocolError with that status for XML-RPC."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.fail("http", status=502)
        with pytest.raises(xmlrpc.client.ProtocolError) as error, proxy(odoo, "common") as common:
            common.version()
        status, content_type, body = json2(odoo, "res.users/context_get", {})
    assert error.value.errcode == 502
    assert error.value.errmsg == "Bad Gateway"
    assert (status, content_type) == (502, "text/html")
    assert b"<title>502 Bad Gateway</title>" in body


def test_html_failure_is_a_parse_error_for_xmlrpc() -> None:
    """fail("html") answers 200 with the login page, which xmlrpc.client cannot parse."""
    with OdooDouble() as odoo:
        odoo.fail("html")
        with pytest.raises(ExpatError), proxy(odoo, "common") as common:
            common.version()


def test_reset_failure_is_a_connection_error(capsys: pytest.CaptureFixture[str]) -> None:
    """fail("reset") closes the connection unanswered: clients see a ConnectionError."""
    with OdooDouble() as odoo:
        seed(odoo, 1)
        odoo.fail("reset")
        with pytest.raises(ConnectionError):
            search_read(odoo, [("id", "in", [1])])
        # orderamt's transport makes one attempt (the stock one silently makes a second).
        assert odoo.calls["search_read"] == 1
        host, port = odoo.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", "/web/version")
            with pytest.raises(ConnectionError):
                connection.getresponse()
        finally:
            connection.close()
    # The double says nothing itself: a CLI test captures stderr and reads every line of it.
    assert capsys.readouterr().err == ""


def test_fault_failure_is_a_fault_or_a_json2_500() -> None:
    """fail("fault") gives XML-RPC that Fault and JSON-2 a 500 error with its message."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        seed(odoo, 1)
        odoo.fail("fault", fault=(1, "boom"))
        with pytest.raises(xmlrpc.client.Fault) as fault:
            search_read(odoo, [])
        status, content_type, body = json2(odoo, "sale.order/search_read", {"domain": []})
    assert (fault.value.faultCode, fault.value.faultString) == (1, "boom")
    assert (status, content_type) == (500, "application/json; charset=utf-8")
    assert json.loads(body)["message"] == "boom"


def test_access_failure_is_odoo_access_error() -> None:
    """fail("access") refuses sale orders as Odoo refuses a user without sales rights."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        seed(odoo, 1)
        odoo.fail("access")
        with proxy(odoo, "common") as common:
            assert common.authenticate("odoo", "admin", "admin", {}) == 2  # logins still work
        with pytest.raises(xmlrpc.client.Fault) as fault:
            search_read(odoo, [])
        status, _, body = json2(odoo, "sale.order/search_read", {"domain": []})
    assert fault.value.faultCode == 4
    assert fault.value.faultString.startswith("You are not allowed to access 'Sales Order'")
    assert status == 403
    assert json.loads(body)["name"] == "odoo.exceptions.AccessError"


def test_after_times_and_on_choose_which_requests_fail() -> None:
    """after=2, times=1, on="search_read" fails the third search_read only."""
    with OdooDouble() as odoo:
        seed(odoo, 3)
        odoo.fail("http", status=503, after=2, times=1, on="search_read")
        outcomes = []
        with proxy(odoo, "common") as common:
            common.authenticate("odoo", "admin", "admin", {})
        for _ in range(4):
            try:
                search_read(odoo, [("id", "in", [1, 2, 3])])
                outcomes.append("ok")
            except xmlrpc.client.ProtocolError as error:
                outcomes.append(str(error.errcode))
    assert outcomes == ["ok", "ok", "503", "ok"]
    assert odoo.calls["search_read"] == 4
    assert odoo.calls["authenticate"] == 1


def test_on_call_runs_while_the_client_waits() -> None:
    """`on_call` sees each method before its answer, so a change it makes is in that answer."""
    seen: list[str] = []
    with OdooDouble() as odoo:
        seed(odoo, 1)

        def meanwhile(method: str) -> None:
            seen.append(method)
            odoo.orders[1]["amount_total"] = 7.0

        odoo.on_call = meanwhile
        records = search_read(odoo, [("id", "=", 1)])
    assert seen == ["search_read"]
    assert records[0]["amount_total"] == 7.0


def test_clear_failures_answers_normally_again() -> None:
    """After clear_failures() the double answers as if no failure had been asked for."""
    with OdooDouble() as odoo:
        odoo.fail("http", status=504)
        with pytest.raises(xmlrpc.client.ProtocolError), proxy(odoo, "common") as common:
            common.version()
        odoo.clear_failures()
        with proxy(odoo, "common") as common:
            assert common.version()["server_serie"] == "18.0"


def test_calls_counts_each_batch_exactly() -> None:
    """Three batches read are three search_read calls, over XML-RPC and JSON-2 alike."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        seed(odoo, 9)
        for batch in ([1, 2, 3], [4, 5, 6], [7, 8, 9]):
            search_read(odoo, [("id", "in", batch)])
        assert odoo.calls["search_read"] == 3
        json2(odoo, "sale.order/search_read", {"domain": [["id", "in", [1]]]})
        assert odoo.calls["search_read"] == 4
        assert odoo.requests[-1][:2] == ("/json/2/sale.order/search_read", "search_read")
        odoo.reset_calls()
        assert odoo.calls["search_read"] == 0
        assert odoo.requests == []


def test_hundred_thousand_orders_load_fast_and_a_batch_answers_its_ids() -> None:
    """100,000 orders load, and a search_read of 500 ids answers exactly those 500 (how fast is
    the benchmark's business, not a timed assertion's)."""
    with OdooDouble() as odoo:
        odoo.add_orders(
            {"id": i, "amount_total": i / 100, "state": "sale"} for i in range(1, 100_001)
        )
        wanted = list(range(40_001, 40_501))
        records = search_read(odoo, [("id", "in", wanted)])
    assert len(odoo.orders) == 100_000
    assert ids_of(records) == sorted(wanted, reverse=True)
    assert records[0]["amount_total"] == 405.0


def test_login_cooldown_after_five_failures() -> None:
    """Five wrong passwords from one address lock it out, as Odoo's login cooldown does."""
    with OdooDouble() as odoo:
        with proxy(odoo, "object") as models:
            for _ in range(5):
                with pytest.raises(xmlrpc.client.Fault, match="Access Denied"):
                    models.execute_kw("odoo", 2, "wrong", "sale.order", "search_count", [[]])
            with pytest.raises(xmlrpc.client.Fault) as fault:
                models.execute_kw("odoo", 2, "admin", "sale.order", "search_count", [[]])
        with proxy(odoo, "common") as common:
            locked_out = common.authenticate("odoo", "admin", "admin", {})
            odoo.clear_failures()
            after_clear = common.authenticate("odoo", "admin", "admin", {})
    assert (fault.value.faultCode, fault.value.faultString) == (
        3,
        "Too many login failures, please wait a bit before trying again.",
    )
    assert locked_out is False
    assert after_clear == 2


def test_start_and_stop_without_with() -> None:
    """start() serves and stop() stops, twice over without harm; a restart gets a new port."""
    odoo = OdooDouble(version=17)
    with pytest.raises(RuntimeError):
        _ = odoo.url
    odoo.start()
    try:
        with proxy(odoo, "common") as common:
            assert common.version()["server_serie"] == "17.0"
    finally:
        odoo.stop()
        odoo.stop()
    with pytest.raises(RuntimeError):
        _ = odoo.url


def test_fail_rejects_what_it_cannot_do() -> None:
    """fail() refuses an unknown mode or an impossible status at once, not at the next request."""
    odoo = OdooDouble()
    with pytest.raises(ValueError, match="unknown failure mode"):
        odoo.fail("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP status"):
        odoo.fail("http", status=42)
    with pytest.raises(ValueError, match="17 and later"):
        OdooDouble(version=16)


@pytest.mark.parametrize(
    ("version", "equal", "after", "from_second"),
    [(17, [], [1, 2, 3], [1, 2, 3]), (18, [], [1, 2, 3], [1, 2, 3]),
     (19, [1, 2, 3], [], [1, 2, 3])],
)  # fmt: skip
def test_a_stamp_compares_as_the_version_does(
    version: int, equal: list[int], after: list[int], from_second: list[int]
) -> None:
    """Orders of one write call share a write_date Odoo keeps with microseconds and sends in
    whole seconds: 17.0 and 18.0 compare the microseconds ('=' the second matches none,
    '>' matches them all), 19.0 whole seconds (odoo-facts.md, measured on 18.0 and 19.0)."""
    with OdooDouble(version=version, api_key=KEY) as odoo:
        seed(odoo, 3)
        second = odoo.write([1, 2, 3], amount_total=5.0)
        assert {r["write_date"] for r in search_read(odoo, [])} == {second}
        assert ids_of(search_read(odoo, [("write_date", "=", second)], order="id")) == equal
        assert ids_of(search_read(odoo, [("write_date", ">", second)], order="id")) == after
        within = [("write_date", ">=", second), ("write_date", "<", "9999-01-01 00:00:00")]
        assert ids_of(search_read(odoo, within, order="id")) == from_second


def test_a_password_is_hashed_at_every_login_and_once_per_uid_for_execute_kw() -> None:
    """`authenticate` checks the password's hash each time; `execute_kw` once per (uid,
    password), as Odoo's cached `_check_uid_passwd`; JSON-2's API key never."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.add_order(id=1, amount_total=10.0)
        with proxy(odoo, "common") as common:
            assert common.authenticate("odoo", "admin", "admin", {}) == 2
            assert common.authenticate("odoo", "admin", "admin", {}) == 2
        assert odoo.password_hashes == 2
        for _ in range(3):
            assert [r["id"] for r in search_read(odoo, [])] == [1]
        assert odoo.password_hashes == 3
        for _ in range(2):
            assert json2(odoo, "res.users/context_get", {})[0] == 200
        assert odoo.password_hashes == 3


def test_a_changed_password_or_a_revoked_key_is_refused_at_once() -> None:
    """A new password in Odoo refuses the old one on the next execute_kw, cached or not;
    a revoked key is refused over JSON-2 and XML-RPC alike."""
    with OdooDouble(version=19, api_key=KEY) as odoo:
        odoo.add_order(id=1, amount_total=10.0)
        assert [r["id"] for r in search_read(odoo, [])] == [1]
        assert [r["id"] for r in search_read(odoo, [], password=KEY)] == [1]
        odoo.change_password("new-secret")
        with pytest.raises(xmlrpc.client.Fault) as refused:
            search_read(odoo, [])
        assert (refused.value.faultCode, refused.value.faultString) == (3, "Access Denied")
        assert [r["id"] for r in search_read(odoo, [], password="new-secret")] == [1]
        odoo.revoke_api_key()
        with pytest.raises(xmlrpc.client.Fault) as refused:
            search_read(odoo, [], password=KEY)
        assert refused.value.faultCode == 3
        status, _, body = json2(odoo, "res.users/context_get", {})
    assert status == 401
    assert json.loads(body)["message"] == "Invalid apikey"


@pytest.mark.parametrize(("version", "seen_at_post"), [(17, 1.0), (18, 1.0), (19, 25.0)])
def test_a_save_posts_its_webhook_before_or_after_its_commit(
    version: int, seen_at_post: float
) -> None:
    """19 posts once the save is committed: a read while the webhook is answered sees the
    new amount. 17 and 18 post inside the saving transaction: such a read still sees the
    old one, and the save commits after the answer."""
    seen: list[float] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(search_read(odoo, [("id", "=", 1)], password=KEY)[0]["amount_total"])
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        with OdooDouble(version=version, api_key=KEY) as odoo:
            odoo.add_order(id=1, amount_total=1.0)
            hook = f"http://127.0.0.1:{receiver.server_port}/hook"
            assert odoo.save(1, hook, amount_total=25.0) == 202
            odoo.committed()
            after = search_read(odoo, [("id", "=", 1)])[0]["amount_total"]
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert seen == [seen_at_post]
    assert after == 25.0
