"""Fixtures: a real portal database on each engine, the Odoo test double, and the real command."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import orderamt as orderamt_package
from orderamt.cli import cli
from orderamt.testing import OdooDouble
from orderamt.testing.portal import OdooIdType, create_orders_table, insert_orders, read_orders

PACKAGE_ROOT = Path(orderamt_package.__file__).resolve().parent.parent
"""Where the orderamt under test is imported from (src/ in a checkout)."""

POSTGRES_URL = os.environ.get(
    "ORDERAMT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("ORDERAMT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_SERVICES = os.environ.get("ORDERAMT_REQUIRE_SERVICES") == "1"

TEST_SETTINGS = (
    "ORDERAMT_TEST_POSTGRES_URL",
    "ORDERAMT_TEST_MYSQL_URL",
    "ORDERAMT_REQUIRE_SERVICES",
)
TEST_CONFIGURATION = {name: os.environ[name] for name in TEST_SETTINGS if name in os.environ}
"""The suite's own settings from the calling shell, as read above: the tool reads none of them."""

SETTING_PREFIXES = ("ORDERAMT_", "ODOO_", "PORTAL_")
"""Every setting of the tool starts so; each test sets the ones it means."""

OUTPUT_VARIABLES = frozenset(
    [
        # The terminal, its colours and its size, as rich and Click read them.
        "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
        "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "JUPYTER_COLUMNS",
        "JUPYTER_LINES",
        # The locale (with every LC_*), by which the report picks emoji or plain text.
        "LANG", "LANGUAGE",
        # How a child Python encodes its output.
        "PYTHONIOENCODING", "PYTHONUTF8",
        # Click's shell completion for `orderamt`, which would answer instead of running.
        "_ORDERAMT_COMPLETE",
    ]
)  # fmt: skip
"""What makes the output depend on the calling shell: unset, unless a test sets it."""

SERVER_ENGINES = ("postgresql", "mariadb")

QUICK_PROTOCOL = {"sqlite": "xmlrpc", "postgresql": "json2", "mariadb": "json2"}
"""The quick run's Odoo protocol on each engine: so both protocols still run end to end."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full-matrix",
        action="store_true",
        help="orderamt: every test on every engine over both Odoo protocols (CI, .ci/run). "
        "Without it, the quick run: PostgreSQL and MariaDB take only the every_engine slice, "
        "each engine one protocol (QUICK_PROTOCOL in tests/conftest.py).",
    )


def pytest_report_header(config: pytest.Config) -> str:
    if config.getoption("full_matrix"):
        return "orderamt: the full matrix, every engine over both Odoo protocols"
    return (
        "orderamt: the quick run, every test on SQLite over XML-RPC, the every_engine slice on "
        "PostgreSQL and MariaDB over JSON-2 (--full-matrix runs every combination)"
    )


def _pinned(item: pytest.Item, fixture: str) -> bool:
    """Whether the test names its own values for the fixture (those all run, quick or not)."""
    for marker in item.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs["argnames"]
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if fixture in names:
            return True
    return False


def _in_quick_run(item: pytest.Item) -> bool:
    if item.get_closest_marker("builds_wheels") is not None:
        return False
    params: dict[str, object] = getattr(getattr(item, "callspec", None), "params", {})
    engine = params.get("portal", "sqlite")
    protocol = params.get("protocol")
    if (
        engine in SERVER_ENGINES
        and not _pinned(item, "portal")
        and item.get_closest_marker("every_engine") is None
    ):
        return False
    return (
        protocol is None
        or _pinned(item, "protocol")
        or protocol == QUICK_PROTOCOL.get(str(engine), protocol)
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The quick run leaves out the rest of the engine x protocol matrix, shown as deselected."""
    if config.getoption("full_matrix"):
        return
    left_out = [item for item in items if not _in_quick_run(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if _in_quick_run(item)]


_server_problems: dict[str, str | None] = {}


def _server_problem(kind: str, url: str) -> str | None:
    """Why the server cannot be used (once per session), or None when it answers."""
    if kind not in _server_problems:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _server_problems[kind] = None
        except Exception as exc:  # any failure means: not usable here
            _server_problems[kind] = f"{kind} not reachable at {make_url(url).host}: {exc}"
        finally:
            engine.dispose()
    return _server_problems[kind]


def _require(kind: str, url: str) -> None:
    problem = _server_problem(kind, url)
    if problem is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"ORDERAMT_REQUIRE_SERVICES=1 but {problem}")
    pytest.skip(problem)


@dataclass
class PortalDb:
    """A fresh portal database: the URL the tool is given and a separate engine for the test."""

    kind: str
    url: str
    engine: Engine
    path: Path | None = None
    table: str = "orders"
    _created: bool = field(default=False, repr=False)

    def create(self, odoo_id_type: OdooIdType = "bigint") -> None:
        create_orders_table(self.engine, name=self.table, odoo_id_type=odoo_id_type)
        self._created = True

    def insert(self, *rows: Mapping[str, Any]) -> None:
        if not self._created:
            self.create()
        insert_orders(self.engine, rows, name=self.table)

    def rows(self) -> list[dict[str, Any]]:
        return read_orders(self.engine, name=self.table)

    def amounts(self) -> dict[str, Any]:
        return {str(r["order_number"]): r["total_amount"] for r in self.rows()}

    def snapshot(self) -> object:
        """Every byte of a SQLite file; every row elsewhere."""
        if self.path is not None:
            self.engine.dispose()
            return self.path.read_bytes()
        return self.rows()


def _sqlite(tmp_path: Path) -> Iterator[PortalDb]:
    path = tmp_path / "portal.db"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    yield PortalDb("sqlite", url, engine, path=path)
    engine.dispose()


def _postgres() -> Iterator[PortalDb]:
    _require("PostgreSQL", POSTGRES_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = create_engine(url)
    try:
        yield PortalDb("postgresql", url.render_as_string(hide_password=False), engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _mariadb() -> Iterator[PortalDb]:
    _require("MariaDB", MYSQL_URL)
    database = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(MYSQL_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{database}`"))
    url = make_url(MYSQL_URL).set(database=database)
    engine = create_engine(url)
    try:
        yield PortalDb("mariadb", url.render_as_string(hide_password=False), engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE `{database}`"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalDb]:
    """A fresh, empty portal database on each engine in turn."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    elif request.param == "postgresql":
        yield from _postgres()
    else:
        yield from _mariadb()


@pytest.fixture
def sqlite_portal(tmp_path: Path) -> Iterator[PortalDb]:
    """A fresh SQLite portal, for what does not depend on the engine."""
    yield from _sqlite(tmp_path)


API_KEY = "0123456789abcdef0123456789abcdef01234567"
LOGIN_CALL = {"xmlrpc": "authenticate", "json2": "context_get"}


@pytest.fixture(params=["xmlrpc", "json2"])
def protocol(request: pytest.FixtureRequest) -> str:
    """Each Odoo protocol in turn: XML-RPC (an Odoo 18) and JSON-2 (an Odoo 19, API key)."""
    return str(request.param)


@pytest.fixture
def odoo(protocol: str) -> Iterator[OdooDouble]:
    """The Odoo test double on a free loopback port, posing as 18 or 19 per the protocol."""
    version = 19 if protocol == "json2" else 18
    with OdooDouble(
        version=version, db="odoo", login="admin", password="admin", api_key=API_KEY
    ) as double:
        yield double


def _from_the_shell(name: str) -> bool:
    """Whether a variable of the calling shell could change what the tool does or prints."""
    return name.startswith(SETTING_PREFIXES) or name.startswith("LC_") or name in OUTPUT_VARIABLES


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset what the shell could set, but keep the suite's own configuration.

    The benchmark's tests read the servers' URLs and ORDERAMT_REQUIRE_SERVICES while they run.
    """
    for name in [name for name in os.environ if _from_the_shell(name)]:
        monkeypatch.delenv(name)
    for name, value in TEST_CONFIGURATION.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session", autouse=True)
def clean_session_environment() -> Iterator[None]:
    """The same cleaning, before any fixture that outlives a test (a module's) reads it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clean(monkeypatch)
        yield


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting, terminal or locale leaks in from the developer's shell or a stray .env file.

    Cleaned again for each test, in case an earlier one changed os.environ itself.
    """
    _clean(monkeypatch)
    monkeypatch.chdir(tmp_path)


def child_environment(**variables: str) -> dict[str, str]:
    """The whole environment for a Python child process: `variables`, and only what it needs.

    Nothing else comes from the calling shell but PATH (and SYSTEMROOT, which Windows needs);
    the child imports the same orderamt as this process, however that was installed.
    """
    env = {"PATH": os.environ.get("PATH", os.defpath), "PYTHONPATH": str(PACKAGE_ROOT)}
    if "SYSTEMROOT" in os.environ:
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return {**env, **variables}


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@dataclass
class Orderamt:
    """Runs the real `orderamt` command with a configuration pointing at the fixtures."""

    env: dict[str, str]
    log_file: Path
    protocol: str

    def __call__(self, *args: str, **env: str | None) -> Run:
        """Run `orderamt ARGS`; keyword arguments set (or, as None, unset) variables."""
        runner = CliRunner()
        result = runner.invoke(cli, list(args), env={**self.env, **env}, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def orderamt(portal: PortalDb, odoo: OdooDouble, protocol: str, tmp_path: Path) -> Orderamt:
    """The command, configured for this test's portal (on each engine) and Odoo double."""
    return _configured(portal, odoo, protocol, tmp_path)


@pytest.fixture
def orderamt_sqlite(
    sqlite_portal: PortalDb, odoo: OdooDouble, protocol: str, tmp_path: Path
) -> Orderamt:
    """The command against a SQLite portal only."""
    return _configured(sqlite_portal, odoo, protocol, tmp_path)


def _configured(portal: PortalDb, odoo: OdooDouble, protocol: str, tmp_path: Path) -> Orderamt:
    log_file = tmp_path / "logs" / "orderamt.log"
    env = {
        "ODOO_URL": odoo.url,
        "ODOO_DB": "odoo",
        "ODOO_USERNAME": "admin",
        "ODOO_PASSWORD": API_KEY if protocol == "json2" else "admin",
        "ODOO_TIMEOUT": "5",
        "ODOO_RETRIES": "0",
        "PORTAL_DATABASE_URL": portal.url,
        "ORDERAMT_LOG_FILE": str(log_file),
        "LANG": "C.UTF-8",
        "LC_ALL": "",
        "LC_CTYPE": "",
    }
    return Orderamt(env, log_file, protocol)


def days_ago(now: datetime, days: float) -> datetime:
    from datetime import timedelta

    return (now - timedelta(days=days)).replace(microsecond=0)
