"""The changes the latency part times: saves in the double, or line prices in a real Odoo.

Either way the bench has a portal in step with Odoo, picks the orders to change, changes one
at a time and learns the amount the portal row must come to. `DoubleChanges` saves in the
double, which posts the webhook itself (`OdooDouble.save`). `OdooChanges` changes a real
Odoo as its staff would: the price of an order's first line, written through the order as
the form's save does (`sale.order.write` with `order_line`; odoo-webhook-steps T5), so that
Odoo's own automation rule posts the webhook; it reads the new total back, and puts every
price it changed back when it closes.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from data import load_portal, make_dataset
from live_support import synced_odoo_rows
from servers import OdooAt, Portal, load_odoo_orders, real_odoo, start_odoo

from orderamt import money
from orderamt.odoo import Odoo
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
    ) -> tuple[int, float, Decimal]:
        """The save's webhook answer, when it came, and the order's new amount."""
        new = self.amounts[target.portal_id] + Decimal(rng.randint(100, 10_000)) / 100
        status = self.at.save(target.odoo_id, hook_url, amount_total=float(new))
        return status, time.perf_counter(), new

    def close(self) -> list[str]:
        self.at.stop()
        return []


@dataclass
class OdooChanges:
    """A real Odoo's first `--live-orders` sale orders in the portal; their lines changed."""

    at: OdooAt
    version: int
    server: str
    odoo: Odoo
    lines: dict[int, tuple[int, float]]
    """Odoo order id -> (its first line's id, the price it had)."""
    changed: set[int] = field(default_factory=set)

    @classmethod
    def open(
        cls, options: argparse.Namespace, portal: Portal, now: datetime
    ) -> tuple[OdooChanges, list[Target]]:
        at, major, amounts, _ = real_odoo(options.odoo_url, options.live_orders)
        load_odoo_orders(portal.engine, amounts, now)
        odoo = Odoo(at.url, at.db, at.login, at.secret, timeout=60)
        odoo.connect()
        odoo.login()
        ids = sorted(amounts)
        open_orders = {
            int(r["id"])
            for r in odoo.search_records(
                "sale.order",
                [("id", "in", ids), ("locked", "=", False), ("state", "!=", "cancel")],
                ["id"],
                "the bench's search for orders it may change",
            )
        }
        lines: dict[int, tuple[int, float]] = {}
        for line in odoo.search_records(
            "sale.order.line",
            [("order_id", "in", sorted(open_orders)), ("display_type", "=", False)],
            ["order_id", "price_unit"],
            "the bench's search for their lines",
        ):
            order_id = int(line["order_id"][0])
            if order_id not in lines or int(line["id"]) < lines[order_id][0]:
                lines[order_id] = (int(line["id"]), float(line["price_unit"]))
        portal_ids = _portal_ids(portal)
        targets = [Target(portal_ids[i], i) for i in ids if i in lines and i in portal_ids]
        if len(targets) < options.samples:
            odoo.close()
            raise SystemExit(
                f"{at.url} has {len(targets)} orders among its first {len(ids):,} with a line "
                f"the bench may change (not locked, not cancelled): fewer than --samples "
                f"{options.samples}"
            )
        return cls(at, int(major), f"Odoo {major} at {at.url}", odoo, lines), targets

    def change(
        self, target: Target, rng: random.Random, hook_url: str
    ) -> tuple[int, float, Decimal]:
        """0 (Odoo's webhook and its answer are not the bench's to see), when Odoo answered
        the save, and the order's new amount, read back from Odoo."""
        line, price = self.lines[target.odoo_id]
        new = round(price + rng.randint(100, 10_000) / 100, 2)
        self.changed.add(target.odoo_id)
        self.odoo.push(target.odoo_id, "write", {"order_line": [[1, line, {"price_unit": new}]]})
        answered = time.perf_counter()
        total = self.odoo.fetch_totals([target.odoo_id])[target.odoo_id]
        amount = money.from_odoo(total.amount_total, money.currency_decimals(total.currency))
        if amount is None:
            raise ValueError(f"Odoo's amount_total {total.amount_total!r} is not an amount")
        return 0, answered, amount

    def close(self) -> list[str]:
        """Every changed price put back; what could not be."""
        problems = []
        for order_id in sorted(self.changed):
            line, price = self.lines[order_id]
            try:
                back = {"order_line": [[1, line, {"price_unit": price}]]}
                self.odoo.push(order_id, "write", back)
            except Exception as exc:  # report it, and put the others back all the same
                problems.append(f"order {order_id}'s line {line} not put back to {price}: {exc}")
        self.odoo.close()
        return problems


def bench_secret(at: OdooAt) -> str:
    """The listener's secret for this Odoo: the same each run, so that the rule an earlier
    run made is found again instead of another one made."""
    return "bench-" + hashlib.sha256(f"{at.url} {at.db}".encode()).hexdigest()[:40]


def _portal_ids(portal: Portal) -> dict[int, int]:
    """Odoo order id -> the portal row's id."""
    path = portal.engine.url.database
    with sqlite3.connect(str(path)) as conn:
        return {int(o): int(i) for i, o in conn.execute("SELECT id, odoo_order_id FROM orders")}
