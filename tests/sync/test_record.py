"""The run record every mode shares: whatever ends a run, and wherever it lands, the run is
in the journal with an end, the documented exit code and one line of why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from orderamt.errors import ExitCode, OdooUnavailable, PortalError, Terminated
from orderamt.models import Changed, Everything, OdooOrders, RunCounts, RunOptions
from orderamt.sync import revert_run, sync_changed, sync_odoo_orders, sync_orders
from tests.sync.fakes import Fail, FakeJournal, FakeOdoo, FakeOrders, Ticking, Told, odoo_of, portal

OPTIONS = RunOptions(batch_size=2)


def sweep(orders: FakeOrders, journal: FakeJournal, odoo: FakeOdoo) -> RunCounts:
    return sync_orders(
        orders, journal, odoo, Everything(), OPTIONS, clock=Ticking(), reporter=Told()
    )


def poll(orders: FakeOrders, journal: FakeJournal, odoo: FakeOdoo) -> RunCounts:
    selection = Changed(days=30, margin=timedelta(seconds=5))
    return sync_changed(orders, journal, odoo, selection, OPTIONS, clock=Ticking(), reporter=Told())


def webhook(orders: FakeOrders, journal: FakeJournal, odoo: FakeOdoo) -> RunCounts:
    selection = OdooOrders(tuple(sorted(odoo.totals)))
    return sync_odoo_orders(
        orders, journal, odoo, selection, OPTIONS, clock=Ticking(), reporter=Told()
    )


def revert(orders: FakeOrders, journal: FakeJournal, odoo: FakeOdoo) -> RunCounts:
    """Reverts the sweep that `setup` ran first."""
    return revert_run(orders, journal, 1, OPTIONS, clock=Ticking(), reporter=Told())


STOPS = [
    pytest.param(KeyboardInterrupt(), ExitCode.INTERRUPTED, "stopped by Ctrl-C", id="ctrl-c"),
    pytest.param(Terminated(), ExitCode.TERMINATED, "stopped by SIGTERM", id="sigterm"),
    pytest.param(
        OdooUnavailable("Odoo did not answer"), ExitCode.ODOO, "Odoo did not answer", id="odoo-down"
    ),
    pytest.param(
        PortalError("the portal went away"),
        ExitCode.PORTAL,
        "the portal went away",
        id="portal-down",
    ),
    pytest.param(
        OSError(28, "No space left on device"),
        ExitCode.PARTIAL,
        "OSError: [Errno 28] No space left on device",
        id="disk-full",
    ),
]

WHERE = {
    "sweep": (sweep, ["login", "batch", "fetch_totals", "apply"]),
    "changed": (poll, ["login", "changed_since", "apply"]),
    "webhook": (webhook, ["fetch_totals", "apply"]),
    "revert": (revert, ["apply"]),
}


def setup(mode: str) -> tuple[FakeOrders, FakeJournal, FakeOdoo]:
    journal = FakeJournal()
    orders = FakeOrders(portal(5), journal=journal)
    odoo = FakeOdoo(odoo_of(orders.rows))
    if mode == "revert":
        sweep(orders, journal, odoo)
    return orders, journal, odoo


@pytest.mark.parametrize("stop, code, why", STOPS)
@pytest.mark.parametrize(
    "mode, call", [(mode, call) for mode, (_, calls) in WHERE.items() for call in calls]
)
def test_a_run_stopped_anywhere_is_recorded_with_its_code_and_why(
    mode: str, call: str, stop: BaseException, code: ExitCode, why: str
) -> None:
    """Every mode, stopped at each call it makes (the first, or the second batch's), ends
    its run in the journal with the code the process exits with and one line of why."""
    orders, journal, odoo = setup(mode)
    before = set(journal.runs)
    nth = 2 if call in ("batch", "apply", "fetch_totals") and mode == "sweep" else 1
    fail = Fail(call, stop, nth)
    orders.fail = journal.fail = odoo.fail = fail
    with pytest.raises(type(stop)):
        WHERE[mode][0](orders, journal, odoo)
    (new,) = [journal.runs[i] for i in set(journal.runs) - before]
    assert new.finished_at is not None
    assert (new.exit_code, new.error) == (int(code), why)
    assert new.kind == ("revert" if mode == "revert" else "sync")


@pytest.mark.parametrize("mode", list(WHERE))
def test_a_run_that_completes_is_recorded_once_with_its_counts(mode: str) -> None:
    """The same record for a run that goes to its end: finished once, exit 0, its tally."""
    orders, journal, odoo = setup(mode)
    before = set(journal.runs)
    counts = WHERE[mode][0](orders, journal, odoo)
    (new,) = [journal.runs[i] for i in set(journal.runs) - before]
    assert (new.exit_code, new.error, new.updated) == (0, None, 5)
    assert counts.updated == 5


def test_a_webhook_batch_whose_odoo_call_fails_is_a_run() -> None:
    """Odoo down while a webhook batch asks it: a failed run (exit 3) in the journal, not a
    gap in the history."""
    orders, journal, odoo = setup("webhook")
    odoo.fail = Fail("fetch_totals", OdooUnavailable("Odoo at http://odoo did not answer"))
    with pytest.raises(OdooUnavailable):
        webhook(orders, journal, odoo)
    (run,) = journal.runs.values()
    assert (run.mode, run.exit_code, run.error) == (
        "webhook",
        3,
        "Odoo at http://odoo did not answer",
    )


def test_a_webhook_for_orders_the_portal_lacks_asks_nothing_and_records_nothing() -> None:
    """No portal order for the posted ids: Odoo is not asked and no run is added."""
    orders, journal, odoo = setup("webhook")
    counts = sync_odoo_orders(
        orders, journal, odoo, OdooOrders((999,)), OPTIONS, clock=Ticking(), reporter=Told()
    )
    assert (counts.found, journal.runs, odoo.calls) == (0, {}, [])


def test_a_dry_run_records_nothing_whatever_ends_it() -> None:
    """A dry run that is stopped leaves the journal as it was."""
    orders, journal, odoo = setup("sweep")
    odoo.fail = Fail("fetch_totals", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        sync_orders(
            orders,
            journal,
            odoo,
            Everything(),
            RunOptions(batch_size=2, dry_run=True),
            clock=Ticking(),
            reporter=Told(),
        )
    assert journal.runs == {}


def test_a_revert_leaves_what_a_later_run_wrote() -> None:
    """A later run wrote the same order (and the row holds what the reverted run wrote
    again): the revert leaves it, Changed since that run."""
    orders, journal, odoo = setup("revert")
    rows_after_sync = dict(orders.rows)
    odoo.totals[101] = replace(odoo.totals[101], amount_total=30.0)
    sweep(orders, journal, odoo)  # run 2 writes order 1 again
    odoo.totals[101] = replace(odoo.totals[101], amount_total=12.5)
    sweep(orders, journal, odoo)  # run 3 puts it back to what run 1 wrote
    assert orders.rows[1].amount == rows_after_sync[1].amount
    counts = revert(orders, journal, odoo)
    assert (counts.updated, counts.skipped) == (4, 1)
    assert orders.rows[1].amount == Decimal("12.50")
