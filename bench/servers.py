"""What the runs talk to: the portal's database server and the Odoo double.

`PortalServer` makes a fresh, empty portal database for each run and drops it after: a new
SQLite file in the work directory, a new schema on PostgreSQL or a new database on MariaDB
(the servers' URLs from --db-url, else `SERVER_URLS`); it also says whether a server answers
and which version it is, for the report. `start_odoo` starts orderamt's Odoo double as Odoo 18
(XML-RPC, a password) or 19 (JSON-2, `API_KEY`), and `answer_without_nagle_delay` is the
bench's one adjustment to it: the double's answers sent at once, as Odoo sends them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from orderamt import money
from orderamt.odoo import Odoo
from orderamt.testing import OdooDouble, odoo_double
from orderamt.testing.portal import create_orders_table, insert_orders
from orderamt.times import EPOCH

KINDS = ("sqlite", "postgresql", "mariadb")
SERVER_URLS = {
    "postgresql": (
        "ORDERAMT_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "mariadb": ("ORDERAMT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}

API_KEY = "bench-api-key-0123456789abcdef"

ONE = Decimal("1.00")
"""A portal order's amount where Odoo's says nothing (0.00: the portal keeps its own)."""


@dataclass
class Portal:
    """One fresh portal database: the URL the runs are given, and the bench's own engine."""

    url: str
    engine: Engine


class PortalServer:
    """Where fresh portal databases of one kind are made, and dropped after use."""

    def __init__(self, kind: str, url: str | None, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        if kind == "sqlite":
            self.url = "sqlite://"
        else:
            variable, default = SERVER_URLS[kind]
            self.url = url or os.environ.get(variable, default)

    def problem(self) -> str | None:
        """Why this database cannot be used here, or None."""
        if self.kind == "sqlite":
            return None
        engine = create_engine(self.url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # anything at all means: not usable
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"{self.kind} not reachable at {make_url(self.url).host}: {reason}"
        finally:
            engine.dispose()
        return None

    def version(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SELECT version()")).scalar_one()).split(",")[0]
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def portal(self) -> Iterator[Portal]:
        """A new, empty portal database, dropped on the way out."""
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if self.kind == "sqlite":
            path = self.workdir / f"{name}.db"
            url = f"sqlite:///{path}"
            engine = create_engine(url)
            try:
                yield Portal(url, engine)
            finally:
                engine.dispose()
                path.unlink(missing_ok=True)
            return
        admin = create_engine(self.url)
        base = make_url(self.url)
        if self.kind == "postgresql":
            create, drop = f'CREATE SCHEMA "{name}"', f'DROP SCHEMA "{name}" CASCADE'
            target = base.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            create, drop = f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`"
            target = base.set(database=name)
        try:
            with admin.begin() as conn:
                conn.execute(text(create))
            engine = create_engine(target)
            try:
                yield Portal(target.render_as_string(hide_password=False), engine)
            finally:
                engine.dispose()
                with admin.begin() as conn:
                    conn.execute(text(drop))
        finally:
            admin.dispose()


def start_odoo(options: argparse.Namespace) -> OdooDouble:
    """Odoo 18 (XML-RPC, a password) or 19 (JSON-2, an API key), as --odoo-version says."""
    if options.odoo_version >= 19:
        return OdooDouble(version=options.odoo_version, api_key=API_KEY)
    return OdooDouble(version=options.odoo_version, db="odoo", login="admin", password="admin")


@contextlib.contextmanager
def answer_without_nagle_delay() -> Iterator[None]:
    """While inside, the Odoo double sends each answer at once, as Odoo does.

    The double's request handler writes an answer's headers and its body separately without
    TCP_NODELAY, so on Linux the body waits for the client's delayed ACK of the headers:
    about 40 ms per call over loopback, on top of the simulated latency, which would swamp
    every figure here (the per-order reference most of all). Real Odoo shows no such stall
    (11 ms per order, one per call, on the recorded Odoo 18). Python's own knob for request
    handlers turns Nagle's algorithm off; a no-op once the double does so itself.
    """
    handler = getattr(odoo_double, "_Handler", None)
    if handler is None:
        yield
        return
    saved = handler.__dict__.get("disable_nagle_algorithm")
    handler.disable_nagle_algorithm = True
    try:
        yield
    finally:
        if saved is None:
            del handler.disable_nagle_algorithm
        else:
            handler.disable_nagle_algorithm = saved


def warm_password_check(url: str, db: str, login: str, secret: str) -> None:
    """A server that has run a while has checked this password before and cached the check
    (per process, `ormcache` on Odoo's check): no timed run should be the first to pay it.
    Each run still pays its own `authenticate` where it has no login kept."""
    with Odoo(url, db, login, secret, timeout=60) as warm:
        warm.login()
        warm.fetch_totals([1])


@dataclass(frozen=True)
class OdooAt:
    """The Odoo a run reads: the double or a real server."""

    url: str
    db: str
    login: str
    secret: str


def double_at(url: str, version: int) -> OdooAt:
    """How the bench's double is logged in to, playing Odoo `version`."""
    return OdooAt(url, "odoo", "admin", API_KEY if version >= 19 else "admin")


def sync_env(odoo: OdooAt, portal_url: str, workdir: Path) -> dict[str, str]:
    """The whole environment of an orderamt run: the shell's own ODOO_*, PORTAL_* and
    ORDERAMT_* never leak in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ODOO_URL": odoo.url,
        "ODOO_DB": odoo.db,
        "ODOO_USERNAME": odoo.login,
        "ODOO_PASSWORD": odoo.secret,
        "PORTAL_DATABASE_URL": portal_url,
        "ORDERAMT_LOG_FILE": str(workdir / "orderamt.log"),
    }


def real_odoo(url: str, n: int) -> tuple[OdooAt, str, dict[int, Decimal], datetime]:
    """The real Odoo the shell's ODOO_* settings log in to, its version, for its first N
    sale orders (oldest write first) the amount a portal order holds once synced (1.00
    where Odoo says 0.00: the portal keeps its own), and the oldest of their write dates
    (UTC, naive, as Odoo gives it). It only reads."""
    missing = [name for name in ("ODOO_DB", "ODOO_USERNAME", "ODOO_PASSWORD")
               if not os.environ.get(name)]  # fmt: skip
    if missing:
        raise SystemExit(f"--odoo-url needs {', '.join(missing)} in the environment")
    at = OdooAt(
        url, os.environ["ODOO_DB"], os.environ["ODOO_USERNAME"], os.environ["ODOO_PASSWORD"]
    )
    with Odoo(at.url, at.db, at.login, at.secret, timeout=60) as odoo:
        version = odoo.connect()
        odoo.login()
        orders = odoo.changed_since(EPOCH, None, n)
    if not orders:
        raise SystemExit(f"{url} has no sale order to read")
    expected = {}
    for order in orders:
        amount = money.from_odoo(order.amount_total, money.currency_decimals(order.currency))
        expected[order.id] = amount if amount else ONE
    oldest = min(datetime.fromisoformat(o.write_date[:19]) for o in orders if o.write_date)
    return at, str(version.major), expected, oldest


def load_odoo_orders(engine: Engine, amounts: Mapping[int, Decimal], now: datetime) -> None:
    """A portal orders table with an order SO-<id> per Odoo id, at the amount given, made
    a day before `now`."""
    create_orders_table(engine)
    day_before = now - timedelta(days=1)
    ids = sorted(amounts)
    for start in range(0, len(ids), 10_000):
        insert_orders(engine, [
            {"order_number": f"SO-{i}", "total_amount": amounts[i], "odoo_order_id": i,
             "created_at": day_before, "updated_at": day_before}
            for i in ids[start:start + 10_000]])  # fmt: skip
