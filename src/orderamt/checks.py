"""`orderamt check`: each part of a setup tried on its own, as an operator would by hand.

A part that fails marks only what depends on it as not tried: a missing SQLite file or a
missing driver still lets Odoo, the log file and the lock be checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from orderamt.config import Settings
from orderamt.errors import ExitCode, LockedError, OrderamtError
from orderamt.lock import describe_lock, lock_kind, run_lock
from orderamt.models import CheckResult
from orderamt.odoo import Odoo
from orderamt.odoo.records import fields_to_read
from orderamt.portal import Database, PortalJournal, PortalOrders, create_portal_engine
from orderamt.portal.lookup import LARGE_TABLE, index_advice, odoo_id_lookup
from orderamt.portal.schema import TableInfo, check_table
from orderamt.times import local_naive
from orderamt.urls import mask_url

NOT_CHECKED = "not checked"
TABLE = "Portal table and columns"
TIME_ZONE = "Portal time zone"
LOOKUP = "Portal lookup by Odoo id"
FUTURE_SLACK = timedelta(minutes=5)
"""Clocks drift; a newest order this far ahead of the zone's clock is no drift."""


def _attempt(label: str, action: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(label, True, action())
    except OrderamtError as exc:
        return CheckResult(label, False, exc.message, int(exc.exit_code))


def check_odoo(odoo: Odoo) -> Iterator[CheckResult]:
    def reach() -> str:
        version = odoo.connect()
        return f"Odoo {version.text} at {mask_url(odoo.url)}, using {odoo.protocol}"

    def login() -> str:
        odoo.login()
        who = "the API key" if odoo.protocol == "json2" else f"user '{odoo.username}'"
        return f"{who} on database '{odoo.db}'"

    def read() -> str:
        # Odoo checks every field asked for, so a mapped field the server lacks
        # (delivery_status without sale_stock) fails here, with the module to install.
        odoo.fetch_totals([1])
        return f"search_read of {', '.join(fields_to_read(odoo.fields))}"

    steps = [("Odoo reachable", reach), ("Odoo login", login), ("sale.order readable", read)]
    failed = False
    for label, step in steps:
        if failed:
            yield CheckResult(label, None, NOT_CHECKED)
            continue
        result = _attempt(label, step)
        failed = not result.passed
        yield result


def check_portal(settings: Settings, now: datetime) -> tuple[list[CheckResult], Engine | None]:
    """The database reached, then its table; the engine, when there is one, for the lock."""
    engine: Engine | None = None

    def reach() -> str:
        nonlocal engine
        engine = create_portal_engine(settings.database_url.reveal())
        Database(engine).ping()
        return settings.database_url_for_display

    reached = _attempt("Portal database reachable", reach)
    if not reached.passed:
        not_tried = [CheckResult(label, None, NOT_CHECKED) for label in (TABLE, LOOKUP, TIME_ZONE)]
        return [reached, *not_tried], engine
    assert engine is not None
    db = Database(engine)
    found: list[TableInfo] = []

    def table() -> str:
        found.append(check_table(db, settings.schema))
        columns = ", ".join(f"{name} {kind}" for name, kind in found[0].columns)
        return f"'{settings.schema.table}': {columns}"

    columns = _attempt(TABLE, table)
    if not columns.passed:
        not_tried = [CheckResult(label, None, NOT_CHECKED) for label in (LOOKUP, TIME_ZONE)]
        return [reached, columns, *not_tried], engine
    lookup = check_lookup(db, found[0])
    return [reached, columns, lookup, check_time_zone(db, settings, now)], engine


def check_lookup(db: Database, info: TableInfo) -> CheckResult:
    """Every poll and webhook batch finds its orders by Odoo id: without an index that
    begins with the column, each reads the whole table, which a large table feels."""
    assert info.schema is not None
    s = info.schema
    if info.odoo_id_is_text:
        detail = (
            f"{s.odoo_id} holds text, matched trimmed: each lookup reads the whole table (an "
            "index on the column itself would not be used)"
        )
        return CheckResult(LOOKUP, True, detail)
    try:
        lookup = odoo_id_lookup(db, s)
    except OrderamtError as exc:  # advice only: a run does not need it
        return CheckResult(LOOKUP, True, exc.message, warning=True)
    if lookup.index is not None:
        return CheckResult(LOOKUP, True, f"{s.odoo_id}, by index {lookup.index}")
    if lookup.invalid is not None:
        advice = index_advice(db, s, lookup.invalid)
        return CheckResult(
            LOOKUP,
            True,
            f"index {lookup.invalid} on {s.odoo_id} is invalid (a CREATE INDEX CONCURRENTLY "
            "that did not finish) and serves no lookup; make it again: "
            f"{advice.drop}, then {advice.sql}",
            warning=True,
        )
    if not lookup.large:
        detail = (
            f"no index begins with {s.odoo_id}; under {LARGE_TABLE:,} orders, reading the "
            "whole table for each poll and webhook batch is still quick"
        )
        return CheckResult(LOOKUP, True, detail)
    advice = index_advice(db, s)
    return CheckResult(
        LOOKUP,
        True,
        f"'{s.table}' holds {LARGE_TABLE:,} orders or more and no index begins with "
        f"{s.odoo_id}, so each poll and webhook batch reads the whole table to find its "
        "orders (among 100,000: 6-18 ms; among 1,000,000: 55-235 ms); add one: "
        f"{advice.sql}, or in a Laravel migration {advice.laravel}",
        warning=True,
    )


def check_time_zone(db: Database, settings: Settings, now: datetime) -> CheckResult:
    """A newest `created_at` in the future, as the zone's clock reads, means a wrong zone."""
    schema = settings.schema
    orders = PortalOrders(db, schema, PortalJournal(db, settings.journal_table))
    try:
        newest = orders.newest_created()
    except OrderamtError as exc:
        return CheckResult(TIME_ZONE, False, exc.message, int(exc.exit_code))
    local_now = local_naive(now, schema.zone)
    said = schema.timezone
    if schema.timezone_from != "PORTAL_TIMEZONE":
        said += f" ({schema.timezone_from})"
    if newest is None:
        return CheckResult(TIME_ZONE, True, f"{said} (no orders yet)")
    ahead = newest - local_now
    if ahead > FUTURE_SLACK:
        return CheckResult(
            TIME_ZONE,
            True,
            f"{said}: the newest {schema.created} ({newest:%Y-%m-%d %H:%M:%S}) lies "
            f"{_hours(ahead)} in the future there; is PORTAL_TIMEZONE the portal's own "
            "(Laravel's config('app.timezone'))?",
            warning=True,
        )
    return CheckResult(
        TIME_ZONE,
        True,
        f"{said} (now {local_now:%Y-%m-%d %H:%M:%S} there; newest "
        f"{schema.created} {newest:%Y-%m-%d %H:%M:%S})",
    )


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours >= 1:
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    return f"{span.total_seconds() / 60:.0f} minutes"


def check_log_file(path: Path) -> CheckResult:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        return CheckResult(
            "Log file writable", False, f"{path}: {exc.strerror or exc}", int(ExitCode.USAGE)
        )
    return CheckResult("Log file writable", True, str(path))


def check_lock(settings: Settings, engine: Engine | None) -> CheckResult:
    describe = describe_lock(settings)
    if lock_kind(settings) == "database" and engine is None:
        return CheckResult("Lock usable", None, f"{describe}: {NOT_CHECKED}")
    try:
        with run_lock(settings, engine):
            pass
    except LockedError:
        return CheckResult("Lock usable", True, f"{describe} (held right now by a running sync)")
    except OrderamtError as exc:
        return CheckResult("Lock usable", False, exc.message, int(exc.exit_code))
    return CheckResult("Lock usable", True, describe)


PUSH_RIGHTS = "Odoo rights for the push"


def check_push_rights(settings: Settings) -> CheckResult | None:
    """What a configured push needs of the Odoo user (None: nothing is pushed). Not tried:
    Odoo has no call that tests a right to cancel without cancelling (or moving the order's
    write_date), so a refusal is named at the first push instead (odoo-facts.md, section 5)."""
    pushed = [spec for spec in settings.schema.fields if spec.push]
    if not pushed:
        return None
    settings_ = ", ".join(
        f"ORDERAMT_{spec.name.upper()}_PUSH "
        + ("write" if spec.kind != "map" else ",".join(f"{p}:{a}" for p, a in spec.push))
        for spec in pushed
    )
    return CheckResult(
        PUSH_RIGHTS,
        True,
        f"{settings_} needs the Odoo user in Sales / User (Own Documents or All Documents) "
        "to cancel, set back to quotation and write sale orders; cancelling an order that "
        "has a draft invoice also needs Invoicing / Billing (a Sales user is refused). Not "
        "tried here, since trying would change an order: a refusal is named at the first push",
        warning=True,
    )


def run_checks(settings: Settings, odoo: Odoo, now: datetime) -> list[CheckResult]:
    """Every check, in the order a run needs them; a failed part marks what depends on it."""
    results = list(check_odoo(odoo))
    rights = check_push_rights(settings)
    if rights is not None:
        results.append(rights)
    portal, engine = check_portal(settings, now)
    try:
        results += portal
        results.append(check_log_file(settings.log_file))
        results.append(check_lock(settings, engine))
    finally:
        if engine is not None:
            engine.dispose()
    return results


def check_header(settings: Settings) -> list[str]:
    """What `check` is about to try, secrets masked."""
    o = settings.odoo
    return [
        f"Odoo:   {mask_url(o.url)}  database {o.db}  user {o.username}  password ********  "
        f"(protocol {o.protocol})",
        f"Portal: {settings.database_url_for_display}",
    ]
