"""The orchestration: read a batch of portal orders, ask Odoo, decide, write, report.

One module per run mode (`sweep`, `changed`, `webhook`, `revert`), the run record they all
share (`record`), the rule applied to a batch (`decide`), the write and its confirmation
(`write`), Odoo's prefetch (`prefetch`), and the Protocols it meets the world through
(`ports`). Knows no database, no HTTP and no terminal.
"""

from orderamt.models import AMOUNT
from orderamt.sync.changed import sync_changed
from orderamt.sync.ports import (
    ChangesSource,
    JournalStore,
    OrderStore,
    Reporter,
    TableLimits,
    TotalsSource,
)
from orderamt.sync.record import exit_code_for
from orderamt.sync.revert import PARTIAL_REVERT, revert_run
from orderamt.sync.sweep import sync_orders
from orderamt.sync.webhook import sync_odoo_orders

__all__ = [
    "AMOUNT",
    "PARTIAL_REVERT",
    "ChangesSource",
    "JournalStore",
    "OrderStore",
    "Reporter",
    "TableLimits",
    "TotalsSource",
    "exit_code_for",
    "revert_run",
    "sync_changed",
    "sync_odoo_orders",
    "sync_orders",
]
