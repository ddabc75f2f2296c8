"""Many rows in a few parameters: MySQL and MariaDB read a JSON array through JSON_TABLE,
PostgreSQL one array per column through unnest.

PyMySQL escapes every value of every row in Python; a batch of 10,000 journal rows was a
third of a MariaDB backfill's write time. One JSON document is made in C and escaped once.
psycopg sends an executemany as one INSERT per row, and a Python list as an array by
dumping each element in Python; an array's text, joined in one go, costs a fraction.
And many ids in one parameter on PostgreSQL, for a WHERE: `among`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Dialect, Table, any_, bindparam, insert, text
from sqlalchemy.types import TypeEngine


def json_table(conn: Connection) -> bool:
    """Whether the server has JSON_TABLE: MariaDB 10.6 and MySQL 8.0.4 on."""
    dialect = conn.dialect
    if dialect.name not in ("mysql", "mariadb"):
        return False
    version = tuple(dialect.server_version_info or ())
    return version >= (10, 6) if getattr(dialect, "is_mariadb", False) else version >= (8, 0, 4)


def json_value(value: object) -> object:
    """A value JSON_TABLE reads back exactly: a Decimal or a datetime as its text, a
    boolean as 1 or 0. The `default` of the document's json.dumps, so called from C only
    for the values JSON has no form for; anything else unknown is an error, not a guess."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (str, int, float)) or value is None:
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")


def bind_processor(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of this type before the driver gets it: the
    processing of the dialect's own form of the type. (The type's `bind_processor` alone
    is the generic one: a Numeric's turns a Decimal into a float on PostgreSQL and SQLite.)"""
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _bound(
    dialect: Dialect, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[list[Any]]:
    """Each named column's values as the driver would get them, column by column: a type's
    processing is one pass over its values, and a column that needs none is taken as it is."""
    columns = []
    for name in names:
        process = bind_processor(table.c[name].type, dialect)
        values = [row[name] for row in rows]
        columns.append([process(v) for v in values] if process else values)
    return columns


def insert_many(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT these rows (each holding `names`) in one statement where the server can read
    them from one parameter per column or one in all; an executemany elsewhere."""
    if not rows:
        return
    if json_table(conn):
        insert_from_json(conn, table, names, rows)
    elif conn.dialect.name == "postgresql":
        insert_from_arrays(conn, table, names, rows)
    else:
        conn.execute(insert(table), list(rows))


def insert_from_arrays(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """PostgreSQL: INSERT INTO table (names) SELECT * FROM unnest(one array per column),
    each value passed through its column type's own bind processing first. The arrays are
    cast to the columns' base types (TEXT, NUMERIC), and the INSERT assigns them to the
    columns: a value too long for its column fails as a plain INSERT's would, instead of
    being cut by the cast."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    params: dict[str, str] = {}
    arrays = []
    bound = _bound(dialect, table, names, rows)
    for n, (name, values) in enumerate(zip(names, bound, strict=True)):
        kind = pg_base_type(table.c[name].type.compile(dialect=dialect))
        if kind.upper() in ("TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE") and any(
            isinstance(v, datetime) and v.tzinfo is not None for v in values
        ):
            # An aware time goes in as an INSERT takes it: a timestamptz, which the column
            # turns into the session's wall clock (cast straight to TIMESTAMP, its offset
            # would be dropped).
            kind = "TIMESTAMPTZ"
        params[f"c{n}"] = pg_array(values)
        arrays.append(f"CAST(:c{n} AS {kind}[])")
    listed = ", ".join(quote(name) for name in names)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({listed}) "
        f"SELECT * FROM unnest({', '.join(arrays)})"
    )
    conn.execute(text(sql), params)


def pg_base_type(kind: str) -> str:
    """A PostgreSQL type without its length or precision: VARCHAR(64) is VARCHAR, NUMERIC(20,
    4) is NUMERIC, TIMESTAMP(6) WITH TIME ZONE keeps its zone, CHAR(3) is BPCHAR (a bare CHAR
    is one character), so that casting an array to it never cuts or rounds a value."""
    base = re.sub(r"\s*\([^)]*\)", "", kind).strip()
    return "BPCHAR" if base.upper() in ("CHAR", "CHARACTER") else base


def pg_array(values: Iterable[object]) -> str:
    """A PostgreSQL array's text, `{1,"a b",NULL}`: every value quoted but numbers, NULL for
    None (a text "NULL" stays a string), a datetime as its ISO text, a boolean as t or f."""
    return "{" + ",".join(map(_pg_element, values)) + "}"


def among(conn: Connection, column: Any, ids: Iterable[int]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(array)`: one parameter instead of a
    thousand (with 1,000 ids a batch, that was a third of the journal's reads)."""
    values = [int(i) for i in ids]
    if conn.dialect.name == "postgresql":
        # Only here: the PostgreSQL dialect's import costs every other engine's start-up.
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger())))
    return column.in_(values)


def _pg_element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return f'"{value.isoformat(sep=" ")}"'
    if not isinstance(value, str):
        raise TypeError(f"no array text for {type(value).__name__}")
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def insert_from_json(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT INTO table (names) SELECT ... FROM JSON_TABLE(one parameter): each value
    passed through its column type's own bind processing first, as an executemany would."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    document = list(zip(*_bound(dialect, table, names, rows), strict=True))
    source = json_source(
        [(quote(name), _json_type(table.c[name].type.compile(dialect=dialect))) for name in names]
    )
    listed = ", ".join(quote(name) for name in names)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({listed}) "
        f"SELECT {listed} FROM {source}"
    )
    conn.execute(text(sql), json_rows(document))


def json_source(columns: Sequence[tuple[str, str]]) -> str:
    """`JSON_TABLE(:rows, ...) AS v` over a document of arrays, the i-th item of each the
    i-th of `columns` (name, SQL type)."""
    listed = ", ".join(f"{name} {kind} PATH '$[{i}]'" for i, (name, kind) in enumerate(columns))
    return f"JSON_TABLE(:rows, '$[*]' COLUMNS ({listed})) AS v"


def json_rows(rows: Sequence[Sequence[object]]) -> dict[str, str]:
    """The :rows parameter of `json_source`: one JSON document, non-ASCII as it is; a
    Decimal, a datetime (or a boolean) written as `json_value` says."""
    return {"rows": json.dumps(rows, ensure_ascii=False, default=json_value)}


def _json_type(kind: str) -> str:
    """A column type JSON_TABLE takes: DATETIME with microseconds (the column rounds as an
    INSERT would), BOOL as the TINYINT it is."""
    if kind.startswith("DATETIME") or kind.startswith("TIMESTAMP"):
        return "DATETIME(6)"
    if kind in ("BOOL", "BOOLEAN"):
        return "TINYINT"
    return kind
