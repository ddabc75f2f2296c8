"""The change journal and the run log, kept in the portal database beside the orders.

Each change is journaled in the same transaction as the change itself, so the two can never
disagree; each run is recorded with its mode, times, counts and exit code.

- `schema`: the five tables' definitions, their creation and their upgrades in place;
- `runs`: a run started, finished or brought up to now (a heartbeat), and read back;
- `changes`: the journal's entries, and what orderamt last wrote to each order;
- `state`: orderamt's own state: the checkpoint, the revert holds, the orders that need a look;
- `facade`: `JournalTables`, all of it on a caller's Connection, and `PortalJournal`, the
  journal as the sync sees it.
"""

from __future__ import annotations

from orderamt.portal.journal.facade import JournalTables, PortalJournal
from orderamt.portal.journal.schema import DEFAULT_JOURNAL_TABLE

__all__ = ["DEFAULT_JOURNAL_TABLE", "JournalTables", "PortalJournal"]
