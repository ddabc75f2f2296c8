"""A batch's pushes: the portal's own changes taken into Odoo, between deciding and writing.

Never lost, never made twice: each push is journaled as an intent (committed) before Odoo
is called, and confirmed by its entry in the batch's own transaction (`write`), which
also clears the batch's intents. Killed in between, the next run decides again from what
Odoo says then: a push Odoo took is seen as both sides agreeing and is not made again; one
it never got is made. An intent left behind tells `history` where orderamt stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from orderamt.errors import PushRefused
from orderamt.models import (
    WRITE,
    Decision,
    FieldIssue,
    FieldSpec,
    JournalEntry,
    OdooTotal,
    Push,
    Reason,
)
from orderamt.reconcile import parse_odoo_id
from orderamt.sync.ports import JournalStore, Pusher, TotalsSource
from orderamt.sync.record import Run
from orderamt.sync.write import push_change

log = logging.getLogger("orderamt")


def push_all(odoo: Pusher, run: Run, decisions: list[Decision], run_id: int) -> list[Decision]:
    """Journal every push of the batch as an intent, then make each: a push Odoo took stays
    in its decision, one it refused becomes the order's issue (the portal keeps its value).
    A failure that is not a refusal (Odoo gone) ends the run; the intents stay behind."""
    intents = [push_change(d, p) for d in decisions for p in d.pushes]
    if not intents:
        return decisions
    run.journal.intend(run_id, intents, run.clock())
    out = []
    took = False
    for decision in decisions:
        if not decision.pushes:
            out.append(decision)
            continue
        assert decision.odoo_id is not None
        done: list[Push] = []
        refused: list[FieldIssue] = []
        for push in decision.pushes:
            try:
                odoo.push(decision.odoo_id, push.action, _values(push))
            except PushRefused as exc:
                refused.append(
                    FieldIssue(push.field, push.odoo_old or "", Reason.PUSH_REFUSED,
                               portal_value=push.portal, detail=f"{push.action}: {exc.message}")
                )  # fmt: skip
                continue
            done.append(push)
        took = took or bool(done)
        out.append(replace(decision, pushes=tuple(done), issues=decision.issues + tuple(refused)))
    if not took:
        run.journal.settle_intents(run_id)  # every one refused: no entry to confirm them with
    return out


def _values(push: Push) -> dict[str, object] | None:
    """What a plain field's `write` writes: the portal's value (NULL clears Odoo's)."""
    return {push.odoo_field: push.odoo_new} if push.action == WRITE else None


def odoo_totals(odoo: TotalsSource, entries: Sequence[JournalEntry]) -> dict[int, OdooTotal]:
    """What Odoo says now of the orders journaled pushes were made to."""
    ids = sorted({i for i in (parse_odoo_id(e.odoo_id) for e in entries) if i is not None})
    return odoo.fetch_totals(ids) if ids else {}


def still_left(
    entry: JournalEntry, spec: FieldSpec | None, totals: Mapping[int, OdooTotal]
) -> bool:
    """Whether Odoo still holds what the journaled push left (its `odoo_new`), spelled as a
    push journals it: a mapped field's raw value, a plain field's as it is written."""
    odoo_id = parse_odoo_id(entry.odoo_id)
    total = totals.get(odoo_id) if odoo_id is not None else None
    if spec is None or total is None:
        return False
    raw = total.values.get(spec.odoo_field, False)
    now = str(raw) if spec.kind == "map" else spec.to_odoo(spec.from_odoo(raw))
    return now == entry.odoo_new


def resolve_intents(
    journal: JournalStore, odoo: TotalsSource, specs: Sequence[FieldSpec], dry_run: bool
) -> None:
    """The intents a stopped run left behind, resolved from what Odoo says now: a push Odoo
    took (it holds the value the push left) is kept as done, one it never got is forgotten
    (the rule pushes it again where the portal still wants it). Done by each sweep before
    its first batch, so the history of an order tells what both sides said once more."""
    if dry_run:
        return
    intents = journal.open_intents()
    if not intents:
        return
    by_name = {spec.name: spec for spec in specs}
    totals = odoo_totals(odoo, intents)
    confirmed: list[JournalEntry] = []
    dropped: list[JournalEntry] = []
    for e in intents:
        took = still_left(e, by_name.get(e.field or ""), totals)
        (confirmed if took else dropped).append(e)
        log.warning(
            "A push left unconfirmed by a stopped run: " + ("Odoo took it" if took else
                                                            "Odoo never got it"),
            extra={"context": {"run": e.run_id, "order_id": e.order_id, "field": e.field,
                               "odoo_new": e.odoo_new}},
        )  # fmt: skip
    journal.resolve_intents(confirmed, dropped)
