"""The double's order lines through real clients: a line's price changes the order's total
and posts the rule's webhook once, as live 18.0 and 19.0 did (odoo-webhook-steps T2, T5);
a locked order and what the double does not model are refused with nothing written."""

from __future__ import annotations

import http.server
import json
import threading
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from orderamt.odoo import Odoo
from orderamt.odoo.automation import ensure_webhook_rule
from orderamt.testing import OdooDouble

KEY = "0123456789abcdef0123456789abcdef01234567"


@contextmanager
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback: its URL and the payloads it was posted."""
    posted: list[dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", posted
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def odoo_with_rule(version: int) -> Iterator[tuple[OdooDouble, Any, list[dict[str, Any]]]]:
    """The double with three orders and orderamt's rule posting to a receiver; an XML-RPC
    proxy logged in as admin (uid 2) with an API key."""
    with receiver() as (hook, posted), OdooDouble(version=version, api_key=KEY) as odoo:
        odoo.add_orders(
            {"id": i, "amount_total": 10.0 * i, "write_date": "2026-10-01 09:00:00"}
            for i in (1, 2, 3)
        )
        with Odoo(odoo.url, odoo.db, "admin", KEY, timeout=5) as client:
            client.connect()
            client.login()
            ensure_webhook_rule(client, hook, ["amount_total", "state"])
        with xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/object") as proxy:
            yield odoo, proxy, posted


def call(odoo: OdooDouble, proxy: Any, model: str, method: str, *args: Any, **kw: Any) -> Any:
    return proxy.execute_kw(odoo.db, 2, KEY, model, method, list(args), kw)


def order(odoo: OdooDouble, proxy: Any, id: int) -> dict[str, Any]:
    fields = ["amount_total", "write_date", "order_line"]
    result: dict[str, Any] = call(odoo, proxy, "sale.order", "read", [id], fields=fields)[0]
    return result


@pytest.mark.parametrize("version", [18, 19])
def test_an_order_s_line_is_found_by_its_order_with_the_order_s_total(version: int) -> None:
    """A search on order_id finds each order's one line, its price the order's total."""
    with odoo_with_rule(version) as (odoo, proxy, _):
        lines = call(
            odoo, proxy, "sale.order.line", "search_read",
            [("order_id", "in", [2, 3]), ("display_type", "=", False)],
            fields=["order_id", "price_unit", "product_uom_qty"],
        )  # fmt: skip
        assert lines == [
            {"id": 2, "order_id": [2, "S00002"], "price_unit": 20.0, "product_uom_qty": 1.0},
            {"id": 3, "order_id": [3, "S00003"], "price_unit": 30.0, "product_uom_qty": 1.0},
        ]
        assert order(odoo, proxy, 2)["order_line"] == [2]


@pytest.mark.parametrize("version", [18, 19])
def test_the_form_s_save_of_a_line_price_moves_the_total_and_posts_once(version: int) -> None:
    """sale.order.write with (1, line, {price_unit}) (T5): the new total and write_date are
    read back at once, and the rule posts that order once, with the new total."""
    with odoo_with_rule(version) as (odoo, proxy, posted):
        assert call(odoo, proxy, "sale.order", "write", [2],
                    {"order_line": [[1, 2, {"price_unit": 123.45}]]}) is True  # fmt: skip
        after = order(odoo, proxy, 2)
        assert after["amount_total"] == 123.45
        assert after["write_date"] > "2026-10-01 09:00:00"
        assert [(p["id"], p["amount_total"]) for p in posted] == [(2, 123.45)]
        assert order(odoo, proxy, 3)["amount_total"] == 30.0


def test_a_write_on_the_line_alone_posts_the_order_with_its_write_date_from_before() -> None:
    """sale.order.line.write (T2): one webhook, the new total, and the write_date the order
    had before that change (odoo-facts.md), while a read gives the new one."""
    with odoo_with_rule(18) as (odoo, proxy, posted):
        assert call(odoo, proxy, "sale.order.line", "write", [3], {"price_unit": 7.5}) is True
        first = order(odoo, proxy, 3)["write_date"]
        assert first > "2026-10-01 09:00:00"
        odoo.orders[3]["write_date"] = "2026-11-02 10:00:00"  # a second later, in effect
        assert call(odoo, proxy, "sale.order.line", "write", [3], {"price_unit": 8.0}) is True
        assert [(p["id"], p["amount_total"], p["write_date"][:19]) for p in posted] == [
            (3, 7.5, "2026-10-01 09:00:00"),
            (3, 8.0, "2026-11-02 10:00:00"),
        ]


def test_a_price_that_leaves_the_total_as_it_was_moves_nothing_and_posts_nothing() -> None:
    """The same price again, or one order of two whose total does not move: no webhook for
    it and its write_date stays (Odoo's rule compares the trigger field's old and new
    value); the other order is posted once."""
    with odoo_with_rule(19) as (odoo, proxy, posted):
        call(odoo, proxy, "sale.order.line", "write", [2], {"price_unit": 20.0})
        assert posted == []
        assert order(odoo, proxy, 2)["write_date"] == "2026-10-01 09:00:00"
        lines = [[1, 2, {"price_unit": 20.0}], [1, 3, {"price_unit": 31.0}]]
        call(odoo, proxy, "sale.order", "write", [2, 3], {"order_line": lines})
        assert [(p["id"], p["amount_total"]) for p in posted] == [(3, 31.0)]


def test_a_total_is_rounded_to_its_currency_s_places() -> None:
    """A yen order's total has no decimals, a dollar order's two, a half rounded up as
    Odoo's float_round does."""
    with odoo_with_rule(19) as (odoo, proxy, _):
        odoo.add_order(id=4, amount_total=500.0, currency=(5, "JPY"))
        call(odoo, proxy, "sale.order.line", "write", [4], {"price_unit": 123.6})
        call(odoo, proxy, "sale.order.line", "write", [1], {"price_unit": 0.125})
        assert [order(odoo, proxy, i)["amount_total"] for i in (4, 1)] == [124.0, 0.13]


def test_a_rule_is_deleted_with_its_webhook_action_and_posts_no_more() -> None:
    """base.automation.unlink takes the rule's actions with it; a user without Settings
    rights is refused."""
    with odoo_with_rule(19) as (odoo, proxy, posted):
        (rule_id,) = odoo.automations
        odoo.admin = False
        with pytest.raises(xmlrpc.client.Fault, match="not allowed to unlink"):
            call(odoo, proxy, "base.automation", "unlink", [rule_id])
        odoo.admin = True
        assert call(odoo, proxy, "base.automation", "unlink", [rule_id]) is True
        assert odoo.automations == {} and odoo.server_actions == {}
        call(odoo, proxy, "sale.order.line", "write", [1], {"price_unit": 99.0})
        assert posted == []


def test_a_locked_order_refuses_a_line_price_and_nothing_is_written() -> None:
    """Locking protects the lines: Odoo's UserError naming the field, no total changed,
    no webhook."""
    with odoo_with_rule(18) as (odoo, proxy, posted):
        call(odoo, proxy, "sale.order", "write", [1], {"locked": True})
        posted.clear()
        with pytest.raises(xmlrpc.client.Fault) as refused:
            call(odoo, proxy, "sale.order", "write", [1],
                 {"order_line": [[1, 1, {"price_unit": 99.0}]]})  # fmt: skip
        assert refused.value.faultCode == 2
        assert refused.value.faultString.endswith(
            "It is forbidden to modify the following fields in a locked order:\nUnit Price"
        )
        assert order(odoo, proxy, 1)["amount_total"] == 10.0
        assert posted == []


@pytest.mark.parametrize(
    "values",
    [
        {"order_line": [[0, 0, {"price_unit": 5.0}]]},
        {"order_line": [[1, 2, {"product_uom_qty": 3.0}]]},
        {"order_line": [[1, 3, {"price_unit": 5.0}]]},
        {"order_line": [[1, 2, {"price_unit": 5.0}]], "no_such_field": 1},
    ],
    ids=["a new line", "a quantity", "another order's line", "with a bad field"],
)
def test_what_the_double_does_not_model_is_refused_with_nothing_written(
    values: dict[str, Any],
) -> None:
    """A line created, a quantity, another order's line, or a bad field beside the lines:
    a fault, and the order and its webhook stay as they were."""
    with odoo_with_rule(19) as (odoo, proxy, posted):
        with pytest.raises(xmlrpc.client.Fault, match="ValueError"):
            call(odoo, proxy, "sale.order", "write", [2], values)
        assert [order(odoo, proxy, i)["amount_total"] for i in (2, 3)] == [20.0, 30.0]
        assert posted == []
