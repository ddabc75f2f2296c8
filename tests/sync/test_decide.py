"""The journal is asked only about the orders a decision needs it for: a pass over orders
already in line with Odoo costs no read of the journal's last values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from orderamt.models import AMOUNT, Action, FieldSpec, Hold, Known, OdooTotal, PortalOrder
from orderamt.sync.decide import decide
from tests.sync.fakes import FakeJournal


@dataclass
class Limits:
    max_amount: Decimal | None = None
    fields: tuple[FieldSpec, ...] = ()


@dataclass
class AskedJournal(FakeJournal):
    """A journal that knows what orderamt wrote to every order, and notes what it is asked."""

    asked: list[list[int]] = field(default_factory=list)

    def known(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], Known], dict[tuple[int, str], Hold]]:
        self.asked.append(sorted(order_ids))
        return {(i, AMOUNT): Known(Decimal("10.00"), Decimal("10.00")) for i in order_ids}, {}


def pair(order_id: int, portal: str, odoo: float) -> tuple[PortalOrder, OdooTotal]:
    order = PortalOrder(order_id, f"SO-{order_id}", Decimal(portal), order_id)
    total = OdooTotal(order_id, f"S{order_id:05d}", odoo, "sale", "USD", "2026-12-01 08:00:00")
    return order, total


def test_orders_in_line_with_odoo_cost_no_journal_read() -> None:
    """A batch whose every order agrees with Odoo asks the journal nothing."""
    journal = AskedJournal()
    pairs = [pair(i, "10.00", 10.0) for i in range(1, 1001)]
    decisions = decide(journal, pairs, Limits(), skip_conflicts=False)
    assert journal.asked == []
    assert {d.action for d in decisions} == {Action.UNCHANGED}


def test_only_the_orders_that_would_change_are_asked_about() -> None:
    """Of a batch, the journal is asked about the two orders Odoo changed, and their
    decisions take what it says (here: orderamt wrote 10.00, the portal kept it)."""
    journal = AskedJournal()
    pairs = [pair(i, "10.00", 12.0 if i in (7, 300) else 10.0) for i in range(1, 501)]
    decisions = decide(journal, pairs, Limits(), skip_conflicts=False)
    assert journal.asked == [[7, 300]]
    updated = [d for d in decisions if d.action is Action.UPDATE]
    assert [(d.order.id, d.new_amount) for d in updated] == [
        (7, Decimal("12.00")),
        (300, Decimal("12.00")),
    ]
    assert all(d.contest is None for d in updated)
