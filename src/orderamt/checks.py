"""`orderamt check`: each part of a setup tried on its own, as an operator would by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from orderamt.config import Settings
from orderamt.errors import ExitCode, LockedError, OrderamtError
from orderamt.odoo import Odoo
from orderamt.odoo.records import display_url
from orderamt.portal import PortalRepository


@dataclass(frozen=True)
class CheckResult:
    label: str
    passed: bool | None
    """None: not tried, because something it needs failed first."""
    detail: str
    exit_code: ExitCode = ExitCode.OK


def _attempt(label: str, action: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(label, True, action())
    except OrderamtError as exc:
        return CheckResult(label, False, exc.message, exc.exit_code)


def check_odoo(odoo: Odoo) -> Iterator[CheckResult]:
    def reach() -> str:
        version = odoo.connect()
        return f"Odoo {version.text} at {display_url(odoo.url)}, using {odoo.protocol}"

    def login() -> str:
        odoo.login()
        who = "the API key" if odoo.protocol == "json2" else f"user '{odoo.username}'"
        return f"{who} on database '{odoo.db}'"

    def read() -> str:
        odoo.fetch_totals([1])
        return "search_read of name, amount_total, state, currency_id, write_date"

    steps = [("Odoo reachable", reach), ("Odoo login", login), ("sale.order readable", read)]
    failed = False
    for label, step in steps:
        if failed:
            yield CheckResult(label, None, "not checked")
            continue
        result = _attempt(label, step)
        failed = not result.passed
        yield result


def check_portal(repository: PortalRepository, where: str) -> Iterator[CheckResult]:
    def reach() -> str:
        repository.ping()
        return where

    def table() -> str:
        info = repository.check()
        columns = ", ".join(f"{name} {kind}" for name, kind in info.columns)
        return f"'{repository.schema.table}': {columns}"

    reached = _attempt("Portal database reachable", reach)
    yield reached
    if reached.passed:
        yield _attempt("Portal table and columns", table)
    else:
        yield CheckResult("Portal table and columns", None, "not checked")


def check_log_file(path: Path) -> CheckResult:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        return CheckResult(
            "Log file writable", False, f"{path}: {exc.strerror or exc}", ExitCode.USAGE
        )
    return CheckResult("Log file writable", True, str(path))


def check_lock(describe: str, lock: Callable[[], AbstractContextManager[None]]) -> CheckResult:
    try:
        with lock():
            pass
    except LockedError:
        return CheckResult("Lock usable", True, f"{describe} (held right now by a running sync)")
    except OrderamtError as exc:
        return CheckResult("Lock usable", False, exc.message, exc.exit_code)
    return CheckResult("Lock usable", True, describe)


def run_checks(
    settings: Settings,
    engine: Engine,
    odoo: Odoo,
    lock: Callable[[], AbstractContextManager[None]],
    lock_description: str,
) -> list[CheckResult]:
    """Every check, in the order a run needs them; a failed part marks what depends on it."""
    results = list(check_odoo(odoo))
    repository = PortalRepository(engine, settings.schema)
    results += check_portal(repository, settings.database_url_for_display)
    results.append(check_log_file(settings.log_file))
    results.append(check_lock(lock_description, lock))
    return results
