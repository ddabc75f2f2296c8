"""The live schema check: the orders table and every configured column, before anything is read."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Enum, Float, Integer, Numeric, String, inspect, text
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import NoSuchTableError, SAWarning, SQLAlchemyError
from sqlalchemy.types import NullType

from orderamt import money
from orderamt.config import PortalSchema
from orderamt.errors import PortalError
from orderamt.models import FieldSpec
from orderamt.portal.engine import Database


@dataclass(frozen=True)
class TableFit:
    """What tables created beside the orders table copy of it (MySQL and MariaDB only)."""

    charset: str | None = None
    collation: str | None = None
    id_unsigned: bool = False


@dataclass(frozen=True)
class TableInfo:
    """What reflection learned about the orders table."""

    max_amount: Decimal | None
    """The largest amount the column holds, None where it sets no bound."""
    odoo_id_is_text: bool
    columns: tuple[tuple[str, str], ...] = ()
    """The configured columns as found, with their SQL types, for `orderamt check`."""
    fit: TableFit = TableFit()
    tables: tuple[str, ...] = ()
    """Every table of the database (or schema), so orderamt's own need no second look."""
    schema: PortalSchema | None = None
    """The configured schema with each column spelled as the table spells it
    (`Total_Amount` configured, `total_amount` found)."""
    id_unique: bool = False
    """MySQL and MariaDB: the id column is the primary key, or unique on its own, so that
    the rows one UPDATE matched are as many as the orders it wrote (never set elsewhere)."""

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The mapped fields, each column spelled as the table spells it (what the sync's
        TableLimits asks of a checked table)."""
        return self.schema.fields if self.schema is not None else ()


@dataclass(frozen=True)
class TableKey:
    """The table's primary key, one of its indexes or one of its unique constraints, as
    reflection reports it."""

    name: str
    columns: tuple[str, ...]
    """Lower-cased, in order; an expression's place is ''."""
    unique: bool
    options: Mapping[str, Any]
    """An index's dialect options (`postgresql_where`, `mysql_prefix`, ...)."""


@contextmanager
def reflecting() -> Iterator[None]:
    """Reflection without SQLAlchemy's warnings of what it cannot read: a column of a type
    it does not know (a `point` or PostGIS location, MariaDB's `inet6`), an index on an
    expression (SQLite). orderamt reads neither; the columns it does read are checked by
    type. Printed, those warnings would reach cron's mail on every run, for nothing to fix."""
    with warnings.catch_warnings():
        for said in _UNREAD:
            warnings.filterwarnings("ignore", message=said, category=SAWarning)
        yield


_UNREAD = ("Did not recognize type ", "Skipped unsupported reflection of expression-based index ")
"""The starts of SQLAlchemy's warnings of what reflection could not read."""


def table_keys(inspector: Inspector, table: str) -> list[TableKey]:
    """Every key of the table: the primary key, the indexes, the unique constraints."""
    with reflecting():
        return _table_keys(inspector, table)


def _table_keys(inspector: Inspector, table: str) -> list[TableKey]:
    primary = inspector.get_pk_constraint(table)
    keys = [_key(primary.get("name") or "the primary key",
                 primary.get("constrained_columns") or [], True)]  # fmt: skip
    keys += [
        _key(i["name"] or "an index", i["column_names"], bool(i.get("unique")),
             i.get("dialect_options", {}))
        for i in inspector.get_indexes(table)
    ]  # fmt: skip
    keys += [
        _key(u["name"] or "a unique constraint", u["column_names"], True)
        for u in inspector.get_unique_constraints(table)
    ]
    return keys


def _key(
    name: str, columns: Sequence[str | None], unique: bool, options: Mapping[str, Any] | None = None
) -> TableKey:
    return TableKey(name, tuple((c or "").lower() for c in columns), unique, options or {})


def _unique_on_its_own(inspector: Inspector, table: str, column: str) -> bool:
    """Whether `column` alone is the table's primary key or a unique index of it."""
    wanted = (column.lower(),)
    return any(key.unique and key.columns == wanted for key in table_keys(inspector, table))


def check_table(db: Database, schema: PortalSchema) -> TableInfo:
    """Reflect the live table: every configured column present, the amount an exact decimal."""
    with reflecting():
        return _check_table(db, schema)


def _check_table(db: Database, schema: PortalSchema) -> TableInfo:
    s = schema
    try:
        with db.reaching():
            inspector = inspect(db.engine)
            found = {c["name"]: c["type"] for c in inspector.get_columns(s.table)}
            tables = tuple(inspector.get_table_names())
    except PortalError as exc:
        if isinstance(exc.__cause__, NoSuchTableError):
            raise PortalError(
                f"portal database {db.where}: table '{s.table}' does not exist "
                "(check PORTAL_ORDERS_TABLE)"
            ) from None
        raise
    wanted = {
        "PORTAL_COL_ID": s.id,
        "PORTAL_COL_NUMBER": s.number,
        "PORTAL_COL_AMOUNT": s.amount,
        "PORTAL_COL_ODOO_ID": s.odoo_id,
        "PORTAL_COL_CREATED": s.created,
    }
    if s.updated:
        wanted["PORTAL_COL_UPDATED"] = s.updated
    if s.currency_column:
        wanted["PORTAL_COL_CURRENCY"] = s.currency_column
    for spec in s.fields:
        wanted[_column_setting(spec)] = spec.column
    lowered = {name.lower(): name for name in found}
    missing = [f"'{col}' ({var})" for var, col in wanted.items() if col.lower() not in lowered]
    if missing:
        raise PortalError(
            f"portal database {db.where}: table '{s.table}' has no column "
            + ", no column ".join(missing)
        )
    amount_type = found[lowered[s.amount.lower()]]
    odoo_type = found[lowered[s.odoo_id.lower()]]
    fit = TableFit()
    id_unique = False
    if db.engine.dialect.name in ("mysql", "mariadb"):
        with db.reaching():
            options = inspector.get_table_options(s.table)
            id_unique = _unique_on_its_own(inspector, s.table, lowered[s.id.lower()])
        fit = TableFit(
            charset=options.get("mysql_default charset"),
            collation=options.get("mysql_collate"),
            id_unsigned=bool(getattr(found[lowered[s.id.lower()]], "unsigned", False)),
        )
    actual = {var: lowered[col.lower()] for var, col in wanted.items()}
    resolved = replace(
        s,
        id=actual["PORTAL_COL_ID"],
        number=actual["PORTAL_COL_NUMBER"],
        amount=actual["PORTAL_COL_AMOUNT"],
        odoo_id=actual["PORTAL_COL_ODOO_ID"],
        created=actual["PORTAL_COL_CREATED"],
        updated=actual.get("PORTAL_COL_UPDATED"),
        currency_column=actual.get("PORTAL_COL_CURRENCY"),
        fields=tuple(replace(f, column=actual[_column_setting(f)]) for f in s.fields),
    )
    if resolved.fields:
        with db.reaching():
            clauses = _check_clauses(db, inspector, s.table)
        for spec in resolved.fields:
            _check_field_column(s.table, spec, found[spec.column], clauses)
    return TableInfo(
        schema=resolved,
        fit=fit,
        tables=tables,
        max_amount=_max_amount(amount_type, s),
        odoo_id_is_text=isinstance(odoo_type, String),
        id_unique=id_unique,
        columns=tuple(
            (lowered[col.lower()], _type_text(found[lowered[col.lower()]]))
            for col in wanted.values()
        ),
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
    needed = money.currency_decimals(schema.currency) if schema.currency else 2
    if scale is not None and scale < needed:
        what = f"{schema.currency}'s {needed} decimals" if schema.currency else "cents"
        raise PortalError(
            f"column '{schema.amount}' (PORTAL_COL_AMOUNT) of table '{schema.table}' is "
            f"{amount_type}, which cannot hold {what}"
        )
    if precision is None or scale is None:
        return None
    return money.largest(precision, scale)


def _column_setting(spec: FieldSpec) -> str:
    """PORTAL_COL_<NAME>: the setting an operator edits to name a mapped field's column."""
    return f"PORTAL_COL_{spec.name.upper()}"


def _type_text(column_type: Any) -> str:
    """The column's SQL type; an ENUM with its values, which are what a mismatch is about."""
    if isinstance(column_type, Enum):
        return "ENUM(" + ",".join(f"'{value}'" for value in column_type.enums) + ")"
    return str(column_type)


_MARIADB_CHECKS = text(
    "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
    "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :table"
)


def _check_clauses(db: Database, inspector: Inspector, table: str) -> list[str]:
    """The SQL of every CHECK constraint of the table, read only when fields are mapped.

    MariaDB's SHOW CREATE TABLE, which SQLAlchemy parses, keeps a CHECK written on the
    column inside the column's line, where SQLAlchemy does not look: information_schema
    lists both kinds. Where it cannot be read (an old MariaDB), SQLAlchemy's reading.
    """
    if getattr(db.engine.dialect, "is_mariadb", False):
        try:
            with db.engine.connect() as conn:
                return [str(c) for c in conn.execute(_MARIADB_CHECKS, {"table": table}).scalars()]
        except SQLAlchemyError:
            pass
    try:
        return [str(c["sqltext"]) for c in inspector.get_check_constraints(table)]
    except NotImplementedError:
        return []


def _check_field_column(
    table: str, spec: FieldSpec, column_type: Any, clauses: Sequence[str]
) -> None:
    """Refuse a column that cannot hold every value of the field's map, now rather than as
    a failed UPDATE half-way through a run."""
    setting, name = _column_setting(spec), spec.name.upper()
    if isinstance(column_type, NullType):
        return  # a SQLite column without a (known) type holds any text
    if spec.kind == "datetime":
        if not isinstance(column_type, (String, DateTime)):
            raise PortalError(
                f"column '{spec.column}' ({setting}) of table '{table}' is {column_type}, "
                f"not a DATETIME (or text) column for Odoo's {spec.odoo_field}"
            )
        return
    if not isinstance(column_type, String):
        raise PortalError(
            f"column '{spec.column}' ({setting}) of table '{table}' is {column_type}, "
            f"not a text column that can hold the values of ORDERAMT_{name}_MAP"
        )
    if isinstance(column_type, Enum) and _is_postgresql_enum(column_type):
        raise PortalError(
            f"column '{spec.column}' ({setting}) of table '{table}' is the PostgreSQL enum "
            f"type {column_type.name}, which orderamt cannot write as text: make it a varchar "
            "with a CHECK of its values, as Laravel's enum() does"
        )
    unfit = _values_not_held(spec, column_type, clauses)
    if unfit is not None:
        values, why = unfit
        raise PortalError(
            f"column '{spec.column}' ({setting}) of table '{table}' cannot hold "
            f"{', '.join(values)} from ORDERAMT_{name}_MAP: {why}"
        )


def _is_postgresql_enum(column_type: Enum) -> bool:
    # Imported here: the PostgreSQL dialect's import would cost every engine's start-up.
    from sqlalchemy.dialects.postgresql import ENUM

    return isinstance(column_type, ENUM)


def _values_not_held(
    spec: FieldSpec, column_type: String, clauses: Sequence[str]
) -> tuple[list[str], str] | None:
    """The map's values the column refuses, each as the error shows it, and why; None if none.

    Compared exactly: a value the database takes only by its collation's case folding or by
    trimming (MariaDB's ENUM) would be read back as another value than the one written.
    """
    values = spec.portal_values
    if isinstance(column_type, Enum):
        missing = [f"'{v}'" for v in values if v not in column_type.enums]
        if missing:
            return missing, f"it is {_type_text(column_type)}"
    elif column_type.length is not None:
        too_long = [f"'{v}' ({len(v)} characters)" for v in values if len(v) > column_type.length]
        if too_long:
            return too_long, f"it is {column_type}"
    for clause in clauses:
        allowed = listed_values(clause, spec.column)
        if allowed is None:
            continue
        missing = [f"'{v}'" for v in values if v not in allowed]
        if missing:
            listed = ", ".join(f"'{v}'" for v in allowed)
            return missing, f"its CHECK constraint allows only {listed}"
    return None


_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_CAST = re.compile(
    r"::\s*(?:character\s+varying|[a-z_]\w*)(?:\s*\(\s*\d+\s*\))?(?:\s*\[\s*\])?", re.IGNORECASE
)
_NOISE = re.compile(r"[\s()]+")


def listed_values(clause: str, column: str) -> tuple[str, ...] | None:
    """The values a CHECK constraint restricts `column` to, or None where it does anything
    else (another column, a range, json_valid(...)): such a constraint is not for this
    check to judge.

    Read are the shapes of Laravel's `$table->enum()` and of a plain IN list, on SQLite
    (`"status" in ('a', 'b')`), PostgreSQL (`(status)::text = ANY ((ARRAY['a'::character
    varying, ...])::text[])`, or `status = 'a'::text` for one value) and MariaDB
    (`` `status` in ('a','b') ``). The literals are set aside first, so what is left, the
    casts, brackets and spaces taken out, is the same skeleton on every engine.
    """
    values = tuple(m.replace("''", "'") for m in _LITERAL.findall(clause))
    skeleton = _NOISE.sub("", _CAST.sub("", _LITERAL.sub("?", clause)))
    name = re.escape(_NOISE.sub("", column))
    listed = r"\?(?:,\?)*"
    shape = rf'(?:check)?(?:"{name}"|`{name}`|{name})(?:in{listed}|=anyarray\[{listed}\]|=\?)'
    if not values or not re.fullmatch(shape, skeleton, re.IGNORECASE):
        return None
    return values
