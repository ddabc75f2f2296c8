"""The changes the latency part times: saves in the double, or line prices in a real Odoo.

Either way the bench has a portal in step with Odoo, picks the orders to change, changes one
at a time and learns the amount the portal row must come to. `DoubleChanges` saves in the
double, which posts the webhook itself (`OdooDouble.save`). `OdooChanges` changes a real
Odoo as its staff would: the price of an order's first line, written through the order as
the form's save does (`sale.order.write` with `order_line`; odoo-webhook-steps T5), so that
an automation rule the bench makes posts the webhook; it reads the new total back, and when
it closes puts every price it changed back and deletes the rule.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
import xmlrpc.client
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from data import load_portal, make_dataset
from live_support import synced_odoo_rows
from servers import OdooAt, Portal, load_odoo_orders, real_odoo, start_odoo

from orderamt import money
from orderamt.errors import PushRefused
from orderamt.odoo import Odoo
from orderamt.odoo.automation import ensure_webhook_rule
from orderamt.testing import OdooDouble

RECENT = 1_000
"""Orders created (and last written in Odoo) in the last 30 days."""


@dataclass(frozen=True)
class Target:
    """One order to change: its row in the portal and its sale order in Odoo."""

    portal_id: int
    odoo_id: int


@dataclass
class DoubleChanges:
    """Saves in the double, with the portal's orders (`--live-orders`) in it."""

    at: OdooDouble
    amounts: dict[int, Decimal]
    """The portal row's id -> its amount, in step with the double."""
    version: int
    server: str | None = None
    """None: the report names the double from the options."""

    @classmethod
    def open(
        cls, options: argparse.Namespace, portal: Portal, now: datetime
    ) -> tuple[DoubleChanges, list[Target]]:
        n = options.live_orders
        dataset = make_dataset(n, min(RECENT, n), now)
        load_portal(portal.engine, dataset)
        odoo = start_odoo(options).start()
        odoo.add_orders(synced_odoo_rows(dataset))
        odoo.latency = options.latency_ms / 1000
        odoo.login_latency = options.login_ms / 1000
        targets = [Target(o.id, o.odoo_id) for o in dataset.orders]
        amounts = {o.id: o.amount for o in dataset.orders}
        return cls(odoo, amounts, options.odoo_version), targets

    def change(
        self, target: Target, rng: random.Random, hook_url: str
    ) -> tuple[int, float, Decimal | None]:
        """The save's webhook answer, when it came, and the order's new amount."""
        new = self.amounts[target.portal_id] + Decimal(rng.randint(100, 10_000)) / 100
        status = self.at.save(target.odoo_id, hook_url, amount_total=float(new))
        return status, time.perf_counter(), new

    def close(self) -> list[str]:
        self.at.stop()
        return []


BENCH_RULE = "orderamt bench: latency (delete it if the bench left it)"
"""The name of the rule the bench makes: not the listener's own, so that nobody deletes the
production rule for it."""


@dataclass
class OdooChanges:
    """A real Odoo's first `--live-orders` sale orders in the portal; their lines changed."""

    at: OdooAt
    version: int
    server: str
    odoo: Odoo
    amounts: dict[int, Decimal]
    """Odoo order id -> the amount the portal holds for it."""
    lines: dict[int, tuple[int, float]]
    """Odoo order id -> (the line the bench may change, the price it had)."""
    changed: set[int] = field(default_factory=set)
    """The orders whose line may hold the bench's price (a write made, or its fate unknown)."""
    rule_id: int | None = None

    @classmethod
    def open(
        cls, options: argparse.Namespace, portal: Portal, now: datetime
    ) -> tuple[OdooChanges, list[Target]]:
        at, major, amounts, _ = real_odoo(options.odoo_url, options.live_orders)
        load_odoo_orders(portal.engine, amounts, now)
        odoo = Odoo(at.url, at.db, at.login, at.secret, timeout=60)
        odoo.connect()
        odoo.login()
        try:
            lines = _changeable_lines(odoo, sorted(amounts), options.samples)
        except BaseException:
            odoo.close()
            raise
        portal_ids = _portal_ids(portal)
        targets = [Target(portal_ids[i], i) for i in sorted(lines) if i in portal_ids]
        if len(targets) < options.samples:
            odoo.close()
            raise SystemExit(
                f"{at.url}: {len(targets)} of its first {len(amounts):,} orders have a line the "
                f"bench may change (an open order, not locked, in a currency of 2 decimals; a "
                f"line of a product, quantity above 0, discount below 100 %): fewer than "
                f"--samples {options.samples}"
            )
        return cls(at, int(major), f"Odoo {major} at {at.url}", odoo, amounts, lines), targets

    def make_rule(self, hook_url: str) -> None:
        """The rule that posts every change of a total to the listener, made as `orderamt
        listen --setup-odoo` makes it, under the bench's own name; deleted by `close`."""
        rule = ensure_webhook_rule(self.odoo, hook_url, ["amount_total"], name=BENCH_RULE)
        self.rule_id = rule.rule_id

    def change(
        self, target: Target, rng: random.Random, hook_url: str
    ) -> tuple[int, float, Decimal | None]:
        """0 (Odoo's webhook and its answer are not the bench's to see), when Odoo answered
        the save, and the order's new amount as Odoo reads it back; None where the total
        did not move (no webhook comes), or is not above 0.00 (the portal keeps its own)."""
        line, price = self.lines[target.odoo_id]
        new = round(price + rng.randint(100, 10_000) / 100, 2)
        self.changed.add(target.odoo_id)
        try:
            self.odoo.push(
                target.odoo_id, "write", {"order_line": [[1, line, {"price_unit": new}]]}
            )
        except PushRefused:  # refused: nothing changed
            self.changed.discard(target.odoo_id)
            raise
        answered = time.perf_counter()
        total = self.odoo.fetch_totals([target.odoo_id])[target.odoo_id]
        amount = money.from_odoo(total.amount_total, money.currency_decimals(total.currency))
        if amount is None or amount <= 0 or amount == self.amounts[target.odoo_id]:
            return 0, answered, None
        return 0, answered, amount

    def close(self) -> list[str]:
        """Every changed price put back and the rule deleted; each failure logged as it
        happens (and returned), so that an interrupted run still says what is left."""
        problems = []
        for order_id in sorted(self.changed):
            line, price = self.lines[order_id]
            back = {"order_line": [[1, line, {"price_unit": price}]]}
            try:
                self.odoo.push(order_id, "write", back)
            except Exception as exc:  # report it, and put the others back all the same
                problems.append(f"order {order_id}: line {line} NOT put back to {price}: {exc}")
                print(f"  {problems[-1]}", file=sys.stderr, flush=True)
        self.odoo.close()
        if self.rule_id is not None:
            try:
                _unlink_rule(self.at, self.rule_id)
            except Exception as exc:
                problems.append(
                    f"automation rule #{self.rule_id} '{BENCH_RULE}' NOT deleted ({exc}): "
                    "delete it in Settings, Technical, Automation Rules"
                )
                print(f"  {problems[-1]}", file=sys.stderr, flush=True)
        return problems


def _changeable_lines(odoo: Odoo, ids: list[int], wanted: int) -> dict[int, tuple[int, float]]:
    """Odoo order id -> (its first line whose price moves its total, that price), for the
    orders the bench may change: quotations first, confirmed orders only where there are
    fewer than `wanted` quotations; never a locked or cancelled order, nor one in a
    currency of other than 2 decimals (the portal's column holds cents)."""
    orders = odoo.search_records(
        "sale.order",
        [("id", "in", ids), ("locked", "=", False), ("state", "in", ["draft", "sent", "sale"])],
        ["state", "currency_id"],
        "the bench's search for orders it may change",
    )
    cents = [o for o in orders
             if money.currency_decimals(_name(o.get("currency_id"))) == 2]  # fmt: skip
    quotations = [int(o["id"]) for o in cents if o["state"] in ("draft", "sent")]
    chosen = quotations if len(quotations) >= wanted else [int(o["id"]) for o in cents]
    lines: dict[int, tuple[int, float]] = {}
    for line in odoo.search_records(
        "sale.order.line",
        [("order_id", "in", chosen), ("display_type", "=", False),
         ("product_uom_qty", ">", 0), ("discount", "<", 100)],
        ["order_id", "price_unit"],
        "the bench's search for their lines",
    ):  # fmt: skip
        order_id = int(line["order_id"][0])
        if order_id not in lines or int(line["id"]) < lines[order_id][0]:
            lines[order_id] = (int(line["id"]), float(line["price_unit"]))
    return lines


def _name(currency: object) -> str | None:
    """A many2one currency's name ([id, name]), or None."""
    return str(currency[1]) if isinstance(currency, list) and len(currency) > 1 else None


def _unlink_rule(at: OdooAt, rule_id: int) -> None:
    """The bench's rule deleted, over XML-RPC (17 to 19 serve it; orderamt itself never
    deletes anything in Odoo, so its adapter has no such call)."""
    common = xmlrpc.client.ServerProxy(f"{at.url}/xmlrpc/2/common", allow_none=True)
    uid = common.authenticate(at.db, at.login, at.secret, {})
    if not uid:
        raise RuntimeError("the log-in was refused")
    models = xmlrpc.client.ServerProxy(f"{at.url}/xmlrpc/2/object", allow_none=True)
    models.execute_kw(at.db, uid, at.secret, "base.automation", "unlink", [[rule_id]])


def _portal_ids(portal: Portal) -> dict[int, int]:
    """Odoo order id -> the portal row's id."""
    path = portal.engine.url.database
    with sqlite3.connect(str(path)) as conn:
        return {int(o): int(i) for i, o in conn.execute("SELECT id, odoo_order_id FROM orders")}
