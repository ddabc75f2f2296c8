"""The portal's orders table, through SQLAlchemy: read in batches, write compare-and-set."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    TableClause,
    bindparam,
    column,
    create_engine,
    func,
    inspect,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    NoSuchTableError,
    SQLAlchemyError,
)

from orderamt.coltypes import LaravelTimestamp, Money
from orderamt.config import PortalSchema
from orderamt.errors import ConfigError, LockedError, PortalError
from orderamt.journal import DEFAULT_JOURNAL_TABLE, Journal, JournalEntry, RunRecord
from orderamt.models import Change, Mode, PortalOrder, RunCounts, Selection

CONNECT_TIMEOUT_SECONDS = 10

DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql"}


@dataclass(frozen=True)
class TableInfo:
    """What reflection learned about the orders table."""

    max_amount: Decimal | None
    odoo_id_is_text: bool
    columns: tuple[tuple[str, str], ...] = ()
    """The configured columns as found, with their SQL types, for `orderamt check`."""


def create_portal_engine(url: str) -> Engine:
    """An engine for the portal, or a one-line error naming what is wrong with the URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError("PORTAL_DATABASE_URL is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file:")
        if not in_memory and not Path(database).is_file():
            raise PortalError(f"the portal database file {database} does not exist")
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return create_engine(parsed, connect_args=connect_args)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        driver = parsed.get_driver_name()
        extra = DRIVER_EXTRAS.get(driver)
        hint = f"; install it with: pip install 'orderamt[{extra}]'" if extra else ""
        raise ConfigError(
            f"PORTAL_DATABASE_URL needs the database driver '{driver}', which is not "
            f"installed{hint}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


class PortalRepository:
    """Reads portal orders as models and writes new amounts only over what was read."""

    def __init__(
        self, engine: Engine, schema: PortalSchema, journal_table: str = DEFAULT_JOURNAL_TABLE
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.journal = Journal(journal_table)
        self._journal_known: bool | None = None
        self._where_url = engine.url.render_as_string(hide_password=True)
        self._info: TableInfo | None = None
        s = schema
        columns: list[Any] = [
            column(s.id),
            column(s.number),
            column(s.amount, Money()),
            column(s.odoo_id),
            column(s.created, LaravelTimestamp()),
        ]
        if s.updated:
            columns.append(column(s.updated, LaravelTimestamp()))
        self.table: TableClause = table(s.table, *columns)
        self._by_amount, self._while_null = self._update_statements()

    def _update_statements(self) -> tuple[Any, Any]:
        """The compare-and-set UPDATE, built once: over the amount read, or while still NULL.

        Built anew for each row, assembling the statement and its cache key cost more than
        running it; built once, only the parameters change.
        """
        c = self.table.c
        s = self.schema
        amount = c[s.amount]
        values: dict[Any, Any] = {amount: bindparam("b_new", type_=amount.type)}
        if s.updated:
            values[c[s.updated]] = bindparam("b_now", type_=c[s.updated].type)
        base = update(self.table).values(values)
        this_row = c[s.id] == bindparam("b_id")
        return (
            base.where(this_row, amount == bindparam("b_old", type_=amount.type)),
            base.where(this_row, amount.is_(None)),
        )

    def _fail(self, exc: SQLAlchemyError, doing: str) -> PortalError:
        return PortalError(f"portal database {self._where_url}: {doing} failed: {_first_line(exc)}")

    def ping(self) -> None:
        """Connect once: is the database there at all?"""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise PortalError(
                f"cannot reach the portal database {self._where_url}: {_first_line(exc)}"
            ) from exc

    def check(self) -> TableInfo:
        """Reflect the live table: every configured column present, the amount one numeric."""
        s = self.schema
        try:
            found = {c["name"]: c["type"] for c in inspect(self.engine).get_columns(s.table)}
        except NoSuchTableError:
            raise PortalError(
                f"portal database {self._where_url}: table '{s.table}' does not exist "
                "(check PORTAL_ORDERS_TABLE)"
            ) from None
        except SQLAlchemyError as exc:
            raise PortalError(
                f"cannot reach the portal database {self._where_url}: {_first_line(exc)}"
            ) from exc
        wanted = {
            "PORTAL_COL_ID": s.id,
            "PORTAL_COL_NUMBER": s.number,
            "PORTAL_COL_AMOUNT": s.amount,
            "PORTAL_COL_ODOO_ID": s.odoo_id,
            "PORTAL_COL_CREATED": s.created,
        }
        if s.updated:
            wanted["PORTAL_COL_UPDATED"] = s.updated
        lowered = {name.lower(): name for name in found}
        missing = [f"'{col}' ({var})" for var, col in wanted.items() if col.lower() not in lowered]
        if missing:
            raise PortalError(
                f"portal database {self._where_url}: table '{s.table}' has no column "
                + ", no column ".join(missing)
            )
        amount_type = found[lowered[s.amount.lower()]]
        odoo_type = found[lowered[s.odoo_id.lower()]]
        self._info = TableInfo(
            max_amount=_max_amount(amount_type, s),
            odoo_id_is_text=isinstance(odoo_type, String),
            columns=tuple(
                (lowered[col.lower()], str(found[lowered[col.lower()]])) for col in wanted.values()
            ),
        )
        return self._info

    @property
    def info(self) -> TableInfo:
        return self._info if self._info is not None else self.check()

    def _filters(self, selection: Selection) -> list[ColumnElement[bool]]:
        c = self.table.c
        odoo_id = c[self.schema.odoo_id]
        filters: list[ColumnElement[bool]] = [odoo_id.is_not(None)]
        if self.info.odoo_id_is_text:
            filters.append(func.trim(odoo_id) != "")
        if selection.mode is Mode.RECENT and selection.since is not None:
            filters.append(c[self.schema.created] >= selection.since)
        if selection.mode is Mode.ONE and selection.order_id is not None:
            filters.append(c[self.schema.id] == selection.order_id)
        return filters

    def count(self, selection: Selection) -> int:
        stmt = select(func.count()).select_from(self.table).where(*self._filters(selection))
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as exc:
            raise self._fail(exc, "counting orders") from exc

    def _select(self) -> Any:
        c = self.table.c
        s = self.schema
        columns = [c[s.id], c[s.number], c[s.amount], c[s.odoo_id]]
        if s.updated:
            columns.append(c[s.updated])
        return select(*columns).select_from(self.table)

    def get(self, order_id: int) -> PortalOrder | None:
        """One order by its portal id, whatever its Odoo id holds."""
        stmt = self._select().where(self.table.c[self.schema.id] == order_id)
        try:
            with self.engine.connect() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as exc:
            raise self._fail(exc, f"reading order {order_id}") from exc
        return _to_order(row) if row is not None else None

    def batches(self, selection: Selection, size: int) -> Iterator[list[PortalOrder]]:
        """The selected orders by ascending id, `size` at a time, each batch its own query.

        Keyset pagination keeps memory flat and holds no transaction open while Odoo is asked.
        """
        id_col = self.table.c[self.schema.id]
        base = self._select().where(*self._filters(selection)).order_by(id_col).limit(size)
        last: Any = None
        while True:
            stmt = base if last is None else base.where(id_col > last)
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(stmt).all()
            except SQLAlchemyError as exc:
                raise self._fail(exc, "reading orders") from exc
            if not rows:
                return
            yield [_to_order(row) for row in rows]
            if len(rows) < size:
                return
            last = rows[-1][0]

    def _journal_exists(self) -> bool:
        if self._journal_known is None:
            try:
                with self.engine.connect() as conn:
                    self._journal_known = self.journal.exists(conn)
            except SQLAlchemyError as exc:
                raise self._fail(exc, "looking for the journal") from exc
        return self._journal_known

    def last_written(self, order_ids: Sequence[int]) -> dict[int, Decimal | None]:
        """What orderamt last wrote to each order, per the journal (empty before the first)."""
        if not order_ids or not self._journal_exists():
            return {}
        try:
            with self.engine.connect() as conn:
                return self.journal.last_written(conn, order_ids)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "reading the journal") from exc

    def start_run(self, kind: str, mode: str, now: datetime, reverts: int | None = None) -> int:
        """Record a run (creating the journal's tables on first use); returns its id."""
        try:
            with self.engine.begin() as conn:
                self.journal.create(conn)
                self._journal_known = True
                return self.journal.start_run(conn, kind, mode, now, reverts)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "recording the run in the journal") from exc

    def finish_run(self, run_id: int, now: datetime, counts: RunCounts, code: int) -> None:
        values = {
            "found": counts.found,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "skipped": counts.skipped,
        }
        try:
            with self.engine.begin() as conn:
                self.journal.finish_run(conn, run_id, now, values, code)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "recording the end of the run") from exc

    def runs(self, limit: int) -> list[RunRecord]:
        if not self._journal_exists():
            return []
        try:
            with self.engine.connect() as conn:
                return self.journal.recent_runs(conn, limit)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "reading the journal's runs") from exc

    def run(self, run_id: int) -> RunRecord | None:
        if not self._journal_exists():
            return None
        try:
            with self.engine.connect() as conn:
                return self.journal.get_run(conn, run_id)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "reading the journal's runs") from exc

    def changes(
        self, *, run_id: int | None = None, order_id: int | None = None
    ) -> list[JournalEntry]:
        if not self._journal_exists():
            return []
        try:
            with self.engine.connect() as conn:
                return self.journal.entries(conn, run_id=run_id, order_id=order_id)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "reading the journal") from exc

    def apply(self, changes: Sequence[Change], now: datetime, run_id: int | None) -> set[int]:
        """Write new amounts and their journal entries in one transaction; returns ids written.

        A row is written only while it still holds the amount that was read, so a change the
        portal made meanwhile is never overwritten. With `run_id`, each write is journaled in
        the same transaction, so the journal and the orders always agree.
        """
        if not changes:
            return set()
        written: set[int] = set()
        entries: list[JournalEntry] = []
        try:
            with self.engine.begin() as conn:
                for change in changes:
                    order = change.order
                    params = {
                        "b_id": order.id,
                        "b_new": change.new_amount,
                        "b_now": change.updated_at if change.restore_updated_at else now,
                    }
                    if order.amount is None:
                        result = conn.execute(self._while_null, params)
                    else:
                        result = conn.execute(self._by_amount, {**params, "b_old": order.amount})
                    if result.rowcount != 1:
                        continue
                    written.add(order.id)
                    if run_id is not None:
                        entries.append(
                            JournalEntry(
                                run_id=run_id,
                                order_id=order.id,
                                odoo_id=change.odoo_id,
                                order_number=order.number,
                                old_amount=order.amount,
                                new_amount=change.new_amount,
                                old_updated_at=order.updated_at,
                                odoo_write_date=change.write_date,
                                changed_at=now,
                                conflict=change.conflict,
                            )
                        )
                self.journal.record(conn, entries)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "writing a batch (rolled back)") from exc
        return written


def _to_order(row: Any) -> PortalOrder:
    order_id, number, amount, odoo_ref, *updated = row
    return PortalOrder(
        id=int(order_id),
        number="" if number is None else str(number),
        amount=amount,
        odoo_ref=odoo_ref,
        updated_at=updated[0] if updated else None,
    )


def _max_amount(amount_type: Any, schema: PortalSchema) -> Decimal | None:
    """The largest amount the column holds; refuses a column that cannot hold cents."""
    # FLOAT and DOUBLE are Numeric to SQLAlchemy, but hold no exact cents: an amount read
    # back never equals the one written, so the compare-and-set could never match.
    if isinstance(amount_type, (Integer, Float)) or not isinstance(amount_type, Numeric):
        raise PortalError(
            f"column '{schema.amount}' (PORTAL_COL_AMOUNT) of table '{schema.table}' is "
            f"{amount_type}, not a DECIMAL or NUMERIC column that can hold an amount"
        )
    precision, scale = amount_type.precision, amount_type.scale
    if scale is not None and scale < 2:
        raise PortalError(
            f"column '{schema.amount}' (PORTAL_COL_AMOUNT) of table '{schema.table}' is "
            f"{amount_type}, which cannot hold cents"
        )
    if precision is None or scale is None:
        return None
    return Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold a lock in the portal database for the run, or raise LockedError at once.

    For installs that run the job on several hosts: PostgreSQL's session advisory lock or
    MySQL/MariaDB's GET_LOCK, both dropped by the server when the connection ends, however
    the process died.
    """
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "mysql", "mariadb"):
        raise ConfigError(
            f"ORDERAMT_LOCK=database needs PostgreSQL, MySQL or MariaDB, not {dialect}: "
            "use ORDERAMT_LOCK=file"
        )
    # GET_LOCK names are server-wide: the database's name keeps two portals on one server apart.
    scope = f"{engine.url.host}|{engine.url.port}|{engine.url.database}|{name}"
    key = f"orderamt:{hashlib.sha256(scope.encode()).hexdigest()[:24]}"
    where = engine.url.render_as_string(hide_password=True)
    if dialect == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        take = text("SELECT pg_try_advisory_lock(:key)").bindparams(key=number)
        give = text("SELECT pg_advisory_unlock(:key)").bindparams(key=number)
    else:
        take = text("SELECT GET_LOCK(:key, 0)").bindparams(key=key[:64])
        give = text("SELECT RELEASE_LOCK(:key)").bindparams(key=key[:64])
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise PortalError(f"cannot reach the portal database {where}: {_first_line(exc)}") from exc
    try:
        try:
            held = bool(conn.execute(take).scalar())
            conn.commit()  # the lock belongs to the session; no transaction stays open
        except SQLAlchemyError as exc:
            raise PortalError(
                f"portal database {where}: taking the run lock failed: {_first_line(exc)}"
            ) from exc
        if not held:
            raise LockedError(
                f"another orderamt run is still going (database lock '{key}' on {where} is "
                "held); this one did nothing"
            )
        try:
            yield
        finally:
            with suppress(SQLAlchemyError):
                conn.execute(give)
                conn.commit()
    finally:
        conn.close()
