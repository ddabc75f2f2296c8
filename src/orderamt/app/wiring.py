"""The wiring every command shares: its settings, the portal's stores, Odoo, the report."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from orderamt.config import (
    OdooSettings,
    Settings,
    load_settings,
)
from orderamt.errors import (
    OrderamtError,
)
from orderamt.logs import LOGGER_NAME
from orderamt.models import (
    FieldSpec,
    Selection,
)
from orderamt.portal import PortalJournal, PortalOrders, create_portal_engine, open_portal

if TYPE_CHECKING:  # each imported where it is used: a command imports only what it uses
    from orderamt.odoo import Odoo, SessionMemory
    from orderamt.report import ConsoleReport, JsonReport

Clock = Callable[[], datetime]


log = logging.getLogger(LOGGER_NAME)


def make_odoo(
    o: OdooSettings,
    fields: Sequence[FieldSpec] = (),
    memory: SessionMemory | None = None,
    *,
    remember: bool = True,
) -> Odoo:
    """Odoo, reading the mapped fields' Odoo fields beside the amount; with `memory` (the
    portal's journal), logged in as an earlier run was, and (`remember`) kept for the next."""
    from orderamt.odoo import Odoo, RetryPolicy

    retry = RetryPolicy(retries=o.retries, wait=o.retry_wait, total=o.retry_max_time)
    return Odoo(
        o.url,
        o.db,
        o.username,
        o.password.reveal(),
        timeout=o.timeout,
        protocol=o.protocol,
        retry=retry,
        fields=[spec.odoo_field for spec in fields],
        memory=memory,
        remember=remember,
    )


@contextmanager
def portal_of(settings: Settings) -> Iterator[tuple[Engine, PortalOrders, PortalJournal]]:
    engine = create_portal_engine(settings.database_url.reveal())
    try:
        orders, journal = open_portal(engine, settings.schema, settings.journal_table)
        yield engine, orders, journal
    finally:
        engine.dispose()


def make_report(
    selection: Selection | None,
    *,
    quiet: bool,
    as_json: bool,
    dry_run: bool,
    reverting: int | None = None,
) -> ConsoleReport | JsonReport:
    from orderamt.report import ConsoleReport, JsonReport, new_console, prepare_output

    if as_json:
        return JsonReport(selection, dry_run=dry_run, stream=sys.stdout)
    stream = sys.stdout
    return ConsoleReport(
        lambda: new_console(stream),
        emoji=prepare_output(stream),
        quiet=quiet,
        dry_run=dry_run,
        reverting=reverting,
        selection=selection,
    )


def settings_from(
    env_file: Path | None,
    report: JsonReport | None = None,
    *,
    webhook: bool = False,
    odoo: bool = True,
    warn: bool = True,
) -> Settings:
    """The settings, or (with a JSON report) the failure printed as a document first.
    `odoo=False` for a command that reads only the portal; `warn=False` where stderr is no
    place for the settings' warnings (a monitoring check's one line)."""
    try:
        settings = load_settings(os.environ, env_file, webhook=webhook, odoo=odoo)
    except OrderamtError as exc:
        if report is not None:
            report.print(None, int(exc.exit_code), exc.message)
        raise
    for warning in settings.warnings if warn else ():
        sys.stderr.write(f"orderamt: warning: {warning}\n")
    return settings
