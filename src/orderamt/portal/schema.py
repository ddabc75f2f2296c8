"""The live schema check: the orders table and every configured column, before anything is read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Integer, Numeric, String, inspect
from sqlalchemy.exc import NoSuchTableError

from orderamt import money
from orderamt.config import PortalSchema
from orderamt.errors import PortalError
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


def check_table(db: Database, schema: PortalSchema) -> TableInfo:
    """Reflect the live table: every configured column present, the amount an exact decimal."""
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
    if db.engine.dialect.name in ("mysql", "mariadb"):
        with db.reaching():
            options = inspect(db.engine).get_table_options(s.table)
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
    )
    return TableInfo(
        schema=resolved,
        fit=fit,
        tables=tables,
        max_amount=_max_amount(amount_type, s),
        odoo_id_is_text=isinstance(odoo_type, String),
        columns=tuple(
            (lowered[col.lower()], str(found[lowered[col.lower()]])) for col in wanted.values()
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
