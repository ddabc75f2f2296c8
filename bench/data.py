"""The benchmark's data: N portal orders and their Odoo side, the same for the same N.

`make_dataset` draws the orders (the mix in `MIX`: most unchanged in Odoo, some changed, some
still 0.00 there, a few missing from it; shuffled; the last ones created in the last 30 days,
the others over the three years before), and `Dataset` says what a sync must leave in the
portal (`expected`, `changed_ids`). `hourly_changes` is what Odoo changes among the recent
orders before the hourly run. `load_portal` writes the orders into a portal database's Laravel
`orders` table and `read_amounts` reads every amount back, rounded to the cent as the rule
compares them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, text

from orderamt.testing.portal import create_orders_table, insert_orders

MIX = (("changed", 0.10), ("zero", 0.04), ("missing", 0.01))
"""Share of each kind of order; the rest are unchanged in Odoo."""
HOURLY_CHANGED = 0.05
"""Share of the recent orders Odoo changes between the backfill and the hourly run."""
RECENT_DAYS = 30
LOAD_CHUNK = 10_000
CENT = Decimal("0.01")


def to_cents(value: Any) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Order:
    """One order: its portal row and its Odoo sale order."""

    id: int
    number: str
    odoo_id: int
    amount: Decimal
    """In the portal, before any sync."""
    odoo_amount: float | None
    """In Odoo; None when the sale order is missing there."""
    kind: str
    created_at: datetime


@dataclass
class Dataset:
    """A portal's orders and their Odoo side, with what a sync must leave in the portal."""

    orders: list[Order]
    recent: int
    """The last `recent` orders were created in the last 30 days; the rest long before."""

    @property
    def n(self) -> int:
        return len(self.orders)

    def count(self, kind: str) -> int:
        return sum(1 for o in self.orders if o.kind == kind)

    def changed_ids(self) -> set[int]:
        """The portal orders a sync must update: those whose Odoo amount changed."""
        return {o.id for o in self.orders if o.kind == "changed"}

    def initial(self) -> dict[int, Decimal]:
        return {o.id: o.amount for o in self.orders}

    def expected(self) -> dict[int, Decimal]:
        """Every portal amount after a sync: Odoo's when above 0.00, else the portal's."""
        return {
            o.id: to_cents(o.odoo_amount) if o.kind == "changed" else o.amount for o in self.orders
        }

    def odoo_rows(self) -> Iterator[dict[str, Any]]:
        for o in self.orders:
            if o.odoo_amount is not None:
                yield {
                    "id": o.odoo_id,
                    "amount_total": o.odoo_amount,
                    "state": "draft" if o.kind == "zero" else "sale",
                }

    def portal_rows(self, start: int, stop: int) -> list[dict[str, Any]]:
        return [
            {
                "id": o.id,
                "order_number": o.number,
                "total_amount": o.amount,
                "odoo_order_id": o.odoo_id,
                "created_at": o.created_at,
                "updated_at": o.created_at,
            }
            for o in self.orders[start:stop]
        ]


def make_dataset(n: int, recent: int, now: datetime) -> Dataset:
    """N orders, the same for the same N: a shuffled mix, oldest first, the last ones recent."""
    rng = random.Random(f"orderamt-bench-{n}")
    kinds: list[str] = []
    for kind, share in MIX:
        kinds += [kind] * max(1 if n >= 20 else 0, round(n * share))
    kinds += ["unchanged"] * (n - len(kinds))
    rng.shuffle(kinds)
    recent = min(recent, n)
    old = n - recent
    history_start = now - timedelta(days=3 * 365)
    history_span = timedelta(days=3 * 365 - RECENT_DAYS - 1)
    recent_start = now - timedelta(days=RECENT_DAYS - 0.5)
    recent_span = timedelta(days=RECENT_DAYS - 0.5) - timedelta(hours=1)
    orders = []
    for i, kind in enumerate(kinds):
        if i < old:
            created = history_start + history_span * (i / max(old, 1))
        else:
            created = recent_start + recent_span * ((i - old) / max(recent, 1))
        cents = rng.randint(1_000, 500_000)
        amount = Decimal(cents) / 100
        odoo: float | None = float(amount)
        if kind == "changed":
            delta = rng.randint(100, 20_000)
            odoo = float(
                Decimal(cents + delta if rng.random() < 0.7 or cents <= delta else cents - delta)
                / 100
            )
        elif kind == "zero":
            odoo = 0.0
        elif kind == "missing":
            odoo = None
        order_id = i + 1
        orders.append(
            Order(
                id=order_id,
                number=f"AFINET-SO-{0x699C2000000 + order_id:X}",
                odoo_id=40 + order_id,
                amount=amount,
                odoo_amount=odoo,
                kind=kind,
                created_at=created.replace(microsecond=0),
            )
        )
    return Dataset(orders, recent)


def hourly_changes(dataset: Dataset, after: dict[int, Decimal]) -> dict[int, float]:
    """New Odoo amounts, by portal id, for a few recent orders (some of them 0.00 until now)."""
    rng = random.Random(f"orderamt-bench-hourly-{dataset.n}")
    recent = [o for o in dataset.orders[dataset.n - dataset.recent :] if o.kind != "missing"]
    chosen = rng.sample(recent, max(1, round(len(recent) * HOURLY_CHANGED))) if recent else []
    changes = {}
    for order in chosen:
        new = after[order.id] + Decimal(rng.randint(100, 10_000)) / 100
        changes[order.id] = float(new)
    return changes


def load_portal(engine: Engine, dataset: Dataset) -> None:
    """The Laravel orders table with the dataset's rows, inserted in chunks (executemany)."""
    create_orders_table(engine)
    for start in range(0, dataset.n, LOAD_CHUNK):
        insert_orders(engine, dataset.portal_rows(start, start + LOAD_CHUNK))


def read_amounts(engine: Engine) -> dict[int, Decimal]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, total_amount FROM orders")).all()
    return {int(i): to_cents(a) for i, a in rows}
