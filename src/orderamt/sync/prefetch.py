"""Prefetch: Odoo asked about the next batch while this one is decided and written."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from orderamt.models import OdooTotal, PortalOrder
from orderamt.reconcile import parse_odoo_id
from orderamt.sync.ports import TotalsSource


def odoo_ids(batch: list[PortalOrder]) -> list[int]:
    return sorted({i for i in (parse_odoo_id(o.odoo_ref) for o in batch) if i is not None})


Result = TypeVar("Result")


class _Call(Generic[Result]):
    """One call made in a daemon thread, its result (or exception) collected later.

    A daemon thread, not a pool: a Ctrl-C or a portal error in the main thread ends the
    process at once instead of waiting for an Odoo call in flight (up to its timeout and
    retries); the abandoned call dies with the process.
    """

    def __init__(self, call: Callable[[], Result]) -> None:
        self._done = threading.Event()
        self._result: Result | None = None
        self._error: BaseException | None = None
        thread = threading.Thread(target=self._run, args=(call,), name="orderamt-odoo", daemon=True)
        thread.start()

    def _run(self, call: Callable[[], Result]) -> None:
        try:
            self._result = call()
        except BaseException as exc:  # handed to the main thread, which decides
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> Result:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


def with_totals(
    batches: Iterator[list[PortalOrder]], odoo: TotalsSource
) -> Iterator[tuple[list[PortalOrder], dict[int, OdooTotal]]]:
    """Each batch with Odoo's totals for it, Odoo already asked about the next one.

    While a batch is decided and written, the next batch's call to Odoo is under way in a
    worker thread, so Odoo's answer time and the portal's write time overlap instead of
    adding up. One call at a time still: the next is sent only once the previous answered.
    A failed call raises when its batch's turn comes, after the batches before it are written.
    """
    pending: tuple[list[PortalOrder], _Call[dict[int, OdooTotal]]] | None = None
    for batch in batches:
        totals = pending[1].result() if pending else None
        ids = odoo_ids(batch)
        upcoming = _Call(lambda ids=ids: odoo.fetch_totals(ids))  # type: ignore[misc]
        if pending and totals is not None:
            yield pending[0], totals
        pending = (batch, upcoming)
    if pending:
        yield pending[0], pending[1].result()
