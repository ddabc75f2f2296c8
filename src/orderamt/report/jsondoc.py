"""The run and the journal for machines: one JSON document, streamed for a long run."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from orderamt import money
from orderamt.models import (
    AMOUNT,
    Changed,
    Checkpoint,
    Decision,
    Hold,
    JournalEntry,
    PortalOrder,
    Problem,
    Reason,
    Recent,
    RunCounts,
    RunRecord,
    Selection,
)
from orderamt.reasons import field_issue


class JsonReport:
    """The run as one JSON document, for monitoring: counts and every decision.

    With `stream`, each decision is written out as it is made ("orders" comes first, the
    counts after it), so a million-order backfill holds none of them in memory; without,
    they are gathered for `document`.
    """

    def __init__(
        self, selection: Selection | None, *, dry_run: bool = False, stream: TextIO | None = None
    ) -> None:
        self.dry_run = dry_run
        self.selection = selection
        self.run_id: int | None = None
        self.already: int | None = None
        self.since: str | None = None
        self.orders: list[dict[str, object]] = []
        self.stream = stream
        self._streamed = 0

    def found(self, count: int, order: PortalOrder | None) -> None:
        pass

    def recorded(self, run_id: int) -> None:
        self.run_id = run_id

    def already_reverted(self, run_id: int, by: RunRecord) -> None:
        self.already = by.id

    def polling(self, since: str, checkpoint: Checkpoint | None) -> None:
        self.since = since

    def news(self, order_ids: set[int]) -> None:
        """The document lists every order: news or not is for a quiet console."""

    def decided(self, decision: Decision) -> None:
        order = decision.order
        entry: dict[str, object] = {
            "id": order.id,
            "order_number": order.number,
            "odoo_id": order.odoo_ref if isinstance(order.odoo_ref, (int, str)) else None,
            "action": decision.action.value,
            "reason": decision.reason.value if decision.reason else None,
            "old_amount": money.plain(order.amount),
            "new_amount": money.plain(decision.new_amount),
            "detail": _detail(decision),
            "conflict": decision.conflict,
            "contest": decision.contest.value if decision.contest else None,
            "held_by_revert_of": decision.hold.reverted_run
            if decision.reason is Reason.HELD and decision.hold
            else None,
            "fields": [
                {
                    "field": f.field,
                    "old": f.old,
                    "new": f.new,
                    "contest": f.contest.value if f.contest else None,
                }
                for f in decision.fields
            ],
            "pushes": [
                {
                    "field": p.field,
                    "portal_value": p.portal,
                    "action": p.action,
                    "odoo_old": p.odoo_old,
                    "odoo_new": p.odoo_new,
                    "contest": p.contest.value if p.contest else None,
                }
                for p in decision.pushes
            ],
            "field_issues": [
                {
                    "field": i.field,
                    "reason": i.reason.value,
                    "odoo_value": i.odoo_value or None,
                    "portal_value": i.portal_value,
                    "detail": field_issue(i),
                }
                for i in decision.issues
            ],
        }
        if self.stream is None:
            self.orders.append(entry)
            return
        opening = '{\n  "orders": [\n    ' if not self._streamed else ",\n    "
        self.stream.write(opening + dumps(entry))
        self._streamed += 1

    def document(
        self, counts: RunCounts | None, exit_code: int, error: str | None = None
    ) -> dict[str, object]:
        selection = self.selection
        return {
            "run_id": self.run_id,
            "mode": selection.mode.value if selection else None,
            "already_reverted_by": self.already,
            "changed_since": self.since,
            "dry_run": self.dry_run,
            "days": selection.days if isinstance(selection, (Recent, Changed)) else None,
            "found": counts.found if counts else None,
            "updated": counts.updated if counts else 0,
            "unchanged": counts.unchanged if counts else 0,
            "skipped": counts.skipped if counts else 0,
            "pushed": counts.pushed if counts else 0,
            "exit_code": exit_code,
            "error": error,
            "orders": self.orders,
        }

    def print(self, counts: RunCounts | None, exit_code: int, error: str | None = None) -> None:
        document = self.document(counts, exit_code, error)
        if self.stream is None or not self._streamed:
            print_json(document)
            return
        del document["orders"]
        rest = dumps(document, indent=2)
        self.stream.write("\n  ],\n" + rest.removeprefix("{\n") + "\n")
        self.stream.flush()


def _detail(decision: Decision) -> str | None:
    """The one value behind a skip, as the JSON document has always carried it."""
    if decision.bad_value is not None:
        return decision.bad_value
    if decision.reason is Reason.NOT_IN_ODOO and decision.odoo_id is not None:
        return str(decision.odoo_id)
    if decision.largest is not None:
        return str(decision.largest)
    if decision.last_written is not None:
        return money.plain(decision.last_written)
    return None


_DEL_AND_C1 = re.compile("[\x7f-\x9f]")


def dumps(document: Mapping[str, Any], indent: int | None = None) -> str:
    """JSON as people read it in a terminal too: letters as they are, every control
    character escaped (json escapes C0 itself; DEL and C1, such as the CSI \\u009b, here)."""
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    return _DEL_AND_C1.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def print_json(document: Mapping[str, Any]) -> None:
    sys.stdout.write(dumps(document, indent=2) + "\n")
    sys.stdout.flush()


def jsonable(value: object) -> object:
    """Amounts as exact strings, times as 'YYYY-MM-DD HH:MM:SS', the rest as it is."""
    if isinstance(value, Decimal):
        return money.plain(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def entry_json(e: JournalEntry) -> dict[str, Any]:
    fields = asdict(e)
    del fields["old_updated_at"]  # the journal's own bookkeeping for a revert
    return {name: jsonable(value) for name, value in fields.items()}


def run_json(r: RunRecord) -> dict[str, Any]:
    return {name: jsonable(value) for name, value in asdict(r).items()}


def hold_json(h: Hold) -> dict[str, Any]:
    """A hold as `history --json` has always given it: the amount's value as `amount`, a
    mapped field's as `value` beside its `field`."""
    amount = h.field == AMOUNT
    stored = {
        "order_id": h.order_id,
        "amount": h.value if amount else None,
        "odoo_write_date": h.odoo_write_date,
        "reverted_run": h.reverted_run,
        "revert_run": h.revert_run,
        "held_at": h.held_at,
        "released_at": h.released_at,
        "released_why": h.released_why,
        "field": None if amount else h.field,
        "value": None if amount else h.value,
    }
    return {name: jsonable(value) for name, value in stored.items()}


def problem_json(p: Problem) -> dict[str, Any]:
    return {name: jsonable(value) for name, value in asdict(p).items()}
