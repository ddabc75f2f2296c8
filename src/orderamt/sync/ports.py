"""What the sync meets the world through: the portal's stores, Odoo, and whoever is told.

The real ones (the portal's tables, the Odoo adapters, the reports) and the tests' fakes
meet these Protocols; the sync knows no database, no HTTP and no terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from orderamt.models import (
    Change,
    Checkpoint,
    Cursor,
    Decision,
    FieldSpec,
    Hold,
    JournalEntry,
    Known,
    OdooTotal,
    PortalOrder,
    RunCounts,
    RunRecord,
    Selection,
)


class TableLimits(Protocol):
    @property
    def max_amount(self) -> Decimal | None: ...

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The mapped fields, each column spelled as the table spells it."""
        ...


class OrderStore(Protocol):
    """Where portal orders are read and written (the portal's orders table meets this)."""

    def check(self) -> TableLimits: ...

    def get(self, order_id: int) -> PortalOrder | None: ...

    def get_many(self, order_ids: Sequence[int]) -> dict[int, PortalOrder]: ...

    def count(self, selection: Selection) -> int: ...

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]: ...

    def by_odoo_ids(self, odoo_ids: Sequence[int]) -> dict[int, list[PortalOrder]]: ...

    def apply(
        self,
        changes: Sequence[Change],
        now: datetime,
        run_id: int | None,
        checkpoint: Checkpoint | None = None,
    ) -> set[tuple[int, str]]:
        """Write compare-and-set, each column over the value read; with `run_id`, journal
        each write in the same transaction; with `checkpoint`, move the catch-up poll's
        checkpoint in it too. Returns the (order id, field) written."""
        ...


class JournalStore(Protocol):
    """What orderamt did before: its runs and the changes it made (the journal meets this)."""

    def known(
        self, order_ids: Sequence[int]
    ) -> tuple[dict[tuple[int, str], Known], dict[tuple[int, str], Hold]]:
        """By (order, field), AMOUNT for the amount: what orderamt last wrote to each field
        of these orders and what Odoo said then, and the revert holds in force on them."""
        ...

    def yielded(self, order_ids: Sequence[int]) -> set[int]:
        """Of these orders, those whose refused push an operator ignored (`orderamt
        ignore`): the portal's value is no longer pushed, Odoo's is taken."""
        ...

    def touched_after(self, run_id: int, order_ids: Sequence[int]) -> set[tuple[int, str]]:
        """The (order, field) a run later than `run_id` wrote to (AMOUNT for the amount)."""
        ...

    def revert_of(self, run_id: int) -> RunRecord | None: ...

    def checkpoint(self) -> Checkpoint | None: ...

    def blank(self) -> bool:
        """No change journaled and no hold placed yet: nothing the journal could say
        changes a decision (a first backfill need not ask it batch by batch)."""
        ...

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int: ...

    def finish_run(
        self, run_id: int, now: datetime, counts: RunCounts, code: int, error: str | None = None
    ) -> bool:
        """Record the end of a run this process started and nothing ended yet; False where
        there is none (the journal was dropped and made again meanwhile)."""
        ...

    def heartbeat(self, checkpoint: Checkpoint | None, mode: str, now: datetime) -> int: ...

    def raise_floor(self, floor: str, now: datetime) -> None:
        """Keep the catch-up poll's floor (Checkpoint.floor), read with the next checkpoint."""
        ...

    def intend(self, run_id: int, changes: Sequence[Change], now: datetime) -> None:
        """Journal pushes about to be made (`Change.push`), committed before Odoo is called:
        an intent stays until the batch's own write confirms it, or Odoo refuses it."""
        ...

    def open_intents(self) -> list[JournalEntry]:
        """The intents earlier runs left behind (stopped before Odoo's answer was kept)."""
        ...

    def resolve_intents(
        self, confirmed: Sequence[JournalEntry], dropped: Sequence[JournalEntry]
    ) -> None:
        """Keep as pushes the intents Odoo took, forget those it never got."""
        ...

    def settle_intents(self, run_id: int) -> None:
        """Clear the run's intents Odoo answered (refused) without a write to confirm them."""
        ...

    def note_problems(self, run_id: int, decisions: Sequence[Decision], now: datetime) -> set[int]:
        """Keep the orders that need a look; returns those that are news (not known before
        with the same reason)."""
        ...

    def run(self, run_id: int) -> RunRecord | None: ...

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None, limit: int | None = None
    ) -> list[JournalEntry]: ...


class Pusher(Protocol):
    """Odoo, taking a portal's change (each Odoo adapter meets this)."""

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """Make `action` on one sale order; PushRefused where Odoo refuses it."""
        ...


class TotalsSource(Pusher, Protocol):
    """Where Odoo's totals come from, and where the portal's own changes go back (each Odoo
    adapter meets this)."""

    def login(self) -> None: ...

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]: ...


class ChangesSource(TotalsSource, Protocol):
    """Odoo, asked what changed (each Odoo adapter meets this)."""

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]: ...

    def answered_at(self) -> datetime | None:
        """Odoo's clock when it last answered (its HTTP Date); None where it sent none."""
        ...


class Reporter(Protocol):
    """Who is told about the run as it goes (the console and JSON reports meet this)."""

    def found(self, count: int, order: PortalOrder | None) -> None: ...

    def recorded(self, run_id: int) -> None:
        """The run now has this id in the journal (for history and revert)."""
        ...

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        """A revert found its run reverted before, and does nothing."""
        ...

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        """A catch-up poll reads the orders Odoo wrote since `since` (Odoo's UTC)."""
        ...

    def decided(self, decision: Decision) -> None: ...

    def news(self, order_ids: set[int]) -> None:
        """Of the orders of the batch about to be told, these need a look as news; the
        others that need one were known before (a quiet report leaves them to `status`)."""
        ...
