"""Many rows in one parameter: MySQL and MariaDB read a JSON array through JSON_TABLE.

PyMySQL escapes every value of every row in Python; a batch of 10,000 journal rows was a
third of a MariaDB backfill's write time. One JSON document is made in C and escaped once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, text


def json_table(conn: Connection) -> bool:
    """Whether the server has JSON_TABLE: MariaDB 10.6 and MySQL 8.0.4 on."""
    dialect = conn.dialect
    if dialect.name not in ("mysql", "mariadb"):
        return False
    version = tuple(dialect.server_version_info or ())
    return version >= (10, 6) if getattr(dialect, "is_mariadb", False) else version >= (8, 0, 4)


def json_value(value: object) -> object:
    """A value JSON_TABLE reads back exactly: a Decimal or a datetime as its text, a
    boolean as 1 or 0."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


def insert_from_json(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT INTO table (names) SELECT ... FROM JSON_TABLE(one parameter): each value
    passed through its column type's own bind processing first, as an executemany would."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    processors = [table.c[name].type.bind_processor(dialect) for name in names]
    document = [
        [
            json_value(process(row[name]) if process else row[name])
            for name, process in zip(names, processors, strict=True)
        ]
        for row in rows
    ]
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
    """The :rows parameter of `json_source`: one JSON document, non-ASCII as it is."""
    return {"rows": json.dumps(rows, ensure_ascii=False)}


def _json_type(kind: str) -> str:
    """A column type JSON_TABLE takes: DATETIME with microseconds (the column rounds as an
    INSERT would), BOOL as the TINYINT it is."""
    if kind.startswith("DATETIME") or kind.startswith("TIMESTAMP"):
        return "DATETIME(6)"
    if kind in ("BOOL", "BOOLEAN"):
        return "TINYINT"
    return kind
