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
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    TableClause,
    TypeDecorator,
    and_,
    column,
    create_engine,
    func,
    inspect,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    NoSuchTableError,
    SQLAlchemyError,
)
from sqlalchemy.types import TypeEngine

from orderamt.config import PortalSchema
from orderamt.errors import ConfigError, LockedError, PortalError
from orderamt.models import Mode, PortalOrder, Selection

CONNECT_TIMEOUT_SECONDS = 10
LARAVEL_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql"}


class Money(TypeDecorator[Decimal]):
    """A DECIMAL column read as Decimal exactly as stored, and written without a float on the way.

    SQLite has no decimal type: a value is bound as text, which the column's NUMERIC affinity
    stores as a number, just as Laravel's PDO does.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(repr(value) if isinstance(value, float) else str(value))


class LaravelTimestamp(TypeDecorator[datetime]):
    """A naive UTC timestamp; on SQLite the 'YYYY-MM-DD HH:MM:SS' text Laravel writes."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return value.strftime(LARAVEL_TIMESTAMP_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value  # type: ignore[no-any-return]


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
    except ArgumentError as exc:
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

    def __init__(self, engine: Engine, schema: PortalSchema) -> None:
        self.engine = engine
        self.schema = schema
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
        return select(c[s.id], c[s.number], c[s.amount], c[s.odoo_id]).select_from(self.table)

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

    def apply(self, updates: Sequence[tuple[PortalOrder, Decimal]], now: datetime) -> set[int]:
        """Write new amounts in one transaction; returns the ids actually written.

        A row is written only while it still holds the amount that was read, so a change the
        portal made meanwhile is never overwritten.
        """
        if not updates:
            return set()
        c = self.table.c
        s = self.schema
        written: set[int] = set()
        try:
            with self.engine.begin() as conn:
                for order, new_amount in updates:
                    amount = c[s.amount]
                    same = amount.is_(None) if order.amount is None else amount == order.amount
                    values: dict[str, Any] = {s.amount: new_amount}
                    if s.updated:
                        values[s.updated] = now
                    stmt = update(self.table).where(and_(c[s.id] == order.id, same)).values(values)
                    if conn.execute(stmt).rowcount == 1:
                        written.add(order.id)
        except SQLAlchemyError as exc:
            raise self._fail(exc, "writing a batch (rolled back)") from exc
        return written


def _to_order(row: Any) -> PortalOrder:
    order_id, number, amount, odoo_ref = row
    return PortalOrder(
        id=int(order_id),
        number="" if number is None else str(number),
        amount=amount,
        odoo_ref=odoo_ref,
    )


def _max_amount(amount_type: Any, schema: PortalSchema) -> Decimal | None:
    """The largest amount the column holds; refuses a column that cannot hold cents."""
    if isinstance(amount_type, Integer) or not isinstance(amount_type, (Numeric, Float)):
        raise PortalError(
            f"column '{schema.amount}' (PORTAL_COL_AMOUNT) of table '{schema.table}' is "
            f"{amount_type}, not a DECIMAL or NUMERIC column that can hold an amount"
        )
    if isinstance(amount_type, Float):
        return None
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
    key = f"orderamt:{name}"
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
