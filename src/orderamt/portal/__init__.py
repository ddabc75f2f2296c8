"""The portal's side, through SQLAlchemy, one file per job.

- `engine`: the engine from the URL (with a hint for a missing driver), and the one place a
  driver's error becomes a PortalError;
- `schema`: the live schema check of the orders table;
- `lookup`: how the table is searched by Odoo id (its index), for `orderamt check`;
- `orders`: reading orders by selection, in batches (`PortalOrders`, the facade);
- `write`: the write path, compare-and-set column by column, journaled in the same
  transaction; `write_chunk`: one chunk in one statement per engine;
- `journal`: the change journal and its runs, beside the orders;
- `coltypes`: the column types for money and Laravel's timestamps.
"""

from __future__ import annotations

from sqlalchemy import Engine

from orderamt.config import PortalSchema
from orderamt.portal.engine import Database, create_portal_engine
from orderamt.portal.journal import DEFAULT_JOURNAL_TABLE, PortalJournal
from orderamt.portal.orders import PortalOrders
from orderamt.portal.schema import TableInfo

__all__ = [
    "Database",
    "PortalJournal",
    "PortalOrders",
    "TableInfo",
    "create_portal_engine",
    "open_portal",
]


def open_portal(
    engine: Engine, schema: PortalSchema, journal_table: str = DEFAULT_JOURNAL_TABLE
) -> tuple[PortalOrders, PortalJournal]:
    """The orders and their journal over one engine."""
    db = Database(engine)
    journal = PortalJournal(db, journal_table)
    return PortalOrders(db, schema, journal), journal
