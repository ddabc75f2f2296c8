"""The schema check of a mapped field's column (PORTAL_COL_<NAME>), on each engine: there,
and able to hold every value of its map (ORDERAMT_<NAME>_MAP), before anything is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine.reflection import Inspector

from orderamt.config import PortalSchema
from orderamt.errors import ExitCode, PortalError
from orderamt.models import FieldSpec
from orderamt.portal import Database, TableInfo, create_portal_engine
from orderamt.portal.schema import check_table, listed_values
from orderamt.testing.portal import create_orders_table
from tests.conftest import Orderamt, PortalDb

STATUS = FieldSpec(
    "status",
    "state",
    "status",
    (("draft", "pending"), ("sale", "confirmed"), ("cancel", "cancelled")),
)
"""Three portal values; the longest, 'confirmed' and 'cancelled', have 9 characters."""
STATUS_MAP = "draft:pending,sale:confirmed,cancel:cancelled"
WITH_STATUS = PortalSchema(fields=(STATUS,))
Check = Callable[..., TableInfo]
"""check_table on the test's database, with WITH_STATUS or the schema given."""
PREFIX = "column 'status' (PORTAL_COL_STATUS) of table 'orders' "


def laravel_enum(kind: str, values: str, column: str = "status") -> str:
    """The column `$table->enum('status', [...])` adds on each engine: a native ENUM on
    MariaDB, a varchar with a CHECK of the values elsewhere (`values`: "'a', 'b'")."""
    if kind == "mariadb":
        return f"enum({values}) not null default 'pending'"
    length = "" if kind == "sqlite" else "(255)"
    return f"varchar{length} check (\"{column}\" in ({values})) not null default 'pending'"


def add_status(portal: PortalDb, ddl: str, column: str = "status") -> None:
    """The Laravel orders table, with a status column added as a migration would."""
    create_orders_table(portal.engine)
    quoted = f"`{column}`" if portal.kind == "mariadb" else f'"{column}"'
    execute(portal, f"ALTER TABLE orders ADD COLUMN {quoted} {ddl}")


def execute(portal: PortalDb, sql: str) -> None:
    with portal.engine.begin() as conn:
        conn.execute(text(sql))


@pytest.fixture
def check(portal: PortalDb) -> Iterator[Check]:
    """`check_table` on the test's database, through the tool's own engine."""
    engines = []

    def checker(schema: PortalSchema = WITH_STATUS) -> TableInfo:
        engine = create_portal_engine(portal.url)
        engines.append(engine)
        return check_table(Database(engine), schema)

    yield checker
    for engine in engines:
        engine.dispose()


def refusal(check: Check, schema: PortalSchema = WITH_STATUS) -> str:
    """The check's one line, which must be a portal error (exit 4)."""
    with pytest.raises(PortalError) as caught:
        check(schema)
    assert caught.value.exit_code is ExitCode.PORTAL
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- a column that fits -----------------------------------------------------------------


def test_fitting_column_passes_spelled_as_the_table_spells_it(
    portal: PortalDb, check: Check
) -> None:
    """A Laravel enum with every value of the map passes; the resolved field and the columns
    `orderamt check` lists carry the table's spelling (`Status` for the configured `status`)."""
    values = "'pending', 'confirmed', 'cancelled'"
    add_status(portal, laravel_enum(portal.kind, values, "Status"), "Status")
    info = check()
    assert info.schema is not None
    assert info.schema.fields == (FieldSpec("status", "state", "Status", STATUS.mapping),)
    assert info.fields == info.schema.fields
    assert [name for name, _ in info.columns][-1] == "Status"
    if portal.kind == "mariadb":
        assert info.columns[-1] == ("Status", "ENUM('pending','confirmed','cancelled')")


@pytest.mark.parametrize("ddl", ["TEXT", "VARCHAR(9)", "CHAR(9)", "VARCHAR(255)"])
def test_text_columns_long_enough_pass(portal: PortalDb, check: Check, ddl: str) -> None:
    """A TEXT, or a VARCHAR or CHAR as long as the longest values (9 characters), passes."""
    add_status(portal, ddl)
    assert check().fields == (STATUS,)


def test_constraints_that_are_no_list_of_values_are_left_alone(
    portal: PortalDb, check: Check
) -> None:
    """A CHECK that is not an IN list of this column (here: not empty; on MariaDB also a JSON
    column's json_valid) is not for the check to judge: it passes."""
    add_status(portal, "varchar(20) check (status <> '')")
    if portal.kind == "mariadb":
        execute(portal, "ALTER TABLE orders ADD COLUMN extra JSON")
    execute(portal, "CREATE TABLE other (status varchar(20) check (status in ('x')))")
    assert check().fields == (STATUS,)


def test_no_mapped_fields_no_extra_query(
    portal: PortalDb, check: Check, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without mapped fields no CHECK constraint is read: the run makes no extra query."""
    add_status(portal, "varchar(20) check (status in ('pending'))")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("CHECK constraints read without mapped fields")

    monkeypatch.setattr(Inspector, "get_check_constraints", refuse)
    engine = create_portal_engine(portal.url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    try:
        info = check_table(Database(engine), PortalSchema())
    finally:
        engine.dispose()
    assert info.fields == ()
    assert not [s for s in statements if "check_constraints" in s.lower()]


# --- a column that does not ---------------------------------------------------------------


def test_missing_column_is_named_with_the_others(portal: PortalDb, check: Check) -> None:
    """A missing field column is named in the same line as the other missing columns."""
    create_orders_table(portal.engine)
    message = refusal(check, PortalSchema(number="ref", fields=(STATUS,)))
    assert message.startswith("portal database ")
    assert message.endswith(
        ": table 'orders' has no column 'ref' (PORTAL_COL_NUMBER), "
        "no column 'status' (PORTAL_COL_STATUS)"
    )


def test_laravel_enum_without_a_value_is_refused(portal: PortalDb, check: Check) -> None:
    """A Laravel enum lacking 'cancelled' is refused: a MariaDB ENUM by its values, elsewhere
    by the CHECK Laravel writes."""
    add_status(portal, laravel_enum(portal.kind, "'pending', 'confirmed'"))
    why = (
        "it is ENUM('pending','confirmed')"
        if portal.kind == "mariadb"
        else "its CHECK constraint allows only 'pending', 'confirmed'"
    )
    assert refusal(check) == f"{PREFIX}cannot hold 'cancelled' from ORDERAMT_STATUS_MAP: {why}"


@pytest.mark.parametrize("portal", ["mariadb"], indirect=True)
@pytest.mark.parametrize(
    "ddl",
    [
        "varchar(20) not null check (status in ('pending','confirmed'))",
        "varchar(20), ADD CONSTRAINT orders_status_check CHECK (status in ('pending','confirmed'))",
    ],
    ids=["on-the-column", "on-the-table"],
)
def test_mariadb_check_without_a_value_is_refused(portal: PortalDb, check: Check, ddl: str) -> None:
    """On MariaDB a CHECK IN list, written on the column (which SQLAlchemy's reflection does
    not see) or on the table, is read too."""
    add_status(portal, ddl)
    assert refusal(check) == (
        f"{PREFIX}cannot hold 'cancelled' from ORDERAMT_STATUS_MAP: "
        "its CHECK constraint allows only 'pending', 'confirmed'"
    )


def test_every_value_missing_is_named(portal: PortalDb, check: Check) -> None:
    """All the values the column lacks are named at once."""
    add_status(portal, laravel_enum(portal.kind, "'pending'"))
    assert refusal(check).startswith(
        f"{PREFIX}cannot hold 'confirmed', 'cancelled' from ORDERAMT_STATUS_MAP: "
    )


def test_too_short_varchar_is_refused(portal: PortalDb, check: Check) -> None:
    """A VARCHAR(8) holds 'pending' but not 'confirmed' nor 'cancelled' (9 characters)."""
    add_status(portal, "VARCHAR(8)")
    assert refusal(check) == (
        f"{PREFIX}cannot hold 'confirmed' (9 characters), 'cancelled' (9 characters) "
        "from ORDERAMT_STATUS_MAP: it is VARCHAR(8)"
    )


@pytest.mark.parametrize(
    ("ddl", "shown"),
    [("INTEGER", "INTEGER"), ("DECIMAL(10,2)", r"(DECIMAL|NUMERIC)\(10, ?2\)"), ("DATE", "DATE")],
)
def test_non_text_column_is_refused(portal: PortalDb, check: Check, ddl: str, shown: str) -> None:
    """A number or a date column cannot hold the map's text values."""
    add_status(portal, ddl)
    message = refusal(check)
    assert message.startswith(f"{PREFIX}is ")
    assert message.endswith(", not a text column that can hold the values of ORDERAMT_STATUS_MAP")
    assert re.search(rf"is {shown}, not", message), message


# --- reading a CHECK constraint -----------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "values"),
    [
        ("\"status\" in ('pending', 'confirmed')", ("pending", "confirmed")),
        (
            "CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, "
            "'confirmed'::character varying])::text[])))",
            ("pending", "confirmed"),
        ),
        (
            "status::text = ANY (ARRAY['pending'::character varying, "
            "'confirmed'::character varying]::text[])",
            ("pending", "confirmed"),
        ),
        ("`status` in ('pending','confirmed')", ("pending", "confirmed")),
        ("STATUS IN ('it''s')", ("it's",)),
        ("status = 'pending'::text", ("pending",)),
        ("`other` in ('a','b')", None),
        ("`status` not in ('a','b')", None),
        ("`status` in ('a','b') or `status` is null", None),
        ("json_valid(`status`)", None),
        ("status = ANY ('{a,b}'::text[])", None),
        ("length(status) > 2", None),
    ],
)
def test_listed_values(clause: str, values: tuple[str, ...] | None) -> None:
    """Laravel's enum CHECK on SQLite and PostgreSQL (old and new spelling), a plain IN list
    on MariaDB; anything else is no list of values for the column."""
    assert listed_values(clause, "status") == values


# --- the real command ---------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["xmlrpc"], indirect=True)
def test_orderamt_check_shows_the_line_and_exits_4(portal: PortalDb, orderamt: Orderamt) -> None:
    """`orderamt check` shows the refusal on the table's line and exits 4."""
    add_status(portal, laravel_enum(portal.kind, "'pending', 'confirmed'"))
    run = orderamt("check", ORDERAMT_STATUS_MAP=STATUS_MAP, PORTAL_COL_STATUS="status")
    assert run.exit_code == 4, run.stdout
    assert (
        f"❌ Portal table and columns: {PREFIX}cannot hold 'cancelled' from ORDERAMT_STATUS_MAP: "
        in run.stdout
    )


@pytest.mark.parametrize("protocol", ["xmlrpc"], indirect=True)
def test_orderamt_check_lists_the_field_column(portal: PortalDb, orderamt: Orderamt) -> None:
    """With a column that fits, `orderamt check` passes and lists it with the others."""
    add_status(portal, "VARCHAR(20)")
    run = orderamt("check", ORDERAMT_STATUS_MAP=STATUS_MAP)
    assert run.exit_code == 0, run.stdout
    assert "✅ Portal table and columns: " in run.stdout
    assert ", status VARCHAR(20)" in run.stdout
