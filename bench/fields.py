"""Mapped fields against the amount alone: issue 15's target, per engine and protocol.

    python bench/fields.py                        # 10,000 orders, SQLite, Odoo 18 and 19
    python bench/fields.py --db all --repeat 3    # and PostgreSQL, MariaDB; median of 3

The portal's orders table has three more varchar(20) columns, `status`, `invoice_status` and
`delivery_status`. Odoo (the test double, with backfill.py's latency per call) holds order i
at i + 0.25 with a state, invoice status and delivery status that vary with i; the portal
holds the same, mapped, except that every tenth order's amount differs (i % 10 == 0).
Each run is its own process, interpreter start included, on a fresh portal:

- without fields: `orderamt sync --all --quiet`, no map set (1,000 amounts written);
- with fields: the same with ORDERAMT_STATUS_MAP, ORDERAMT_INVOICE_STATUS_MAP and
  ORDERAMT_DELIVERY_STATUS_MAP set: the three fields read and decided for every order, the
  same 1,000 amounts written (what reading more fields costs);
- and statuses written: the same again on a portal where another tenth's status is still
  `pending` where Odoo has confirmed the order (i % 10 == 5): 1,000 statuses written too.

Target (issue 15): with fields within 1.10 x without. Every column is checked after each run;
a wrong value exits 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from backfill import LATENCY_MS, reachable, timed  # noqa: E402
from servers import (  # noqa: E402
    KINDS,
    PortalServer,
    answer_without_nagle_delay,
    double_at,
    start_odoo,
    sync_env,
)
from sqlalchemy import Engine, column, table, text, update  # noqa: E402

from orderamt.testing.portal import create_orders_table, insert_orders  # noqa: E402

TARGET = 1.10
MAPS = {
    "ORDERAMT_STATUS_MAP": "draft:pending,sent:pending,sale:confirmed,cancel:cancelled",
    "ORDERAMT_INVOICE_STATUS_MAP": "no:none,to invoice:due,invoiced:invoiced,upselling:invoiced",
    "ORDERAMT_DELIVERY_STATUS_MAP": "false:none,pending:pending,started:shipping,"
    "partial:shipping,full:delivered",
}
# Odoo's value of order i is CYCLE[i % len(CYCLE)]; i % 10 == 5 is always "sale".
STATES = ("sale", "sale", "sent", "draft", "cancel")
INVOICE = ("to invoice", "invoiced", "no", "upselling")
DELIVERY = (False, "pending", "started", "partial", "full", "full", "full")
COLUMNS: dict[str, tuple[str | bool, ...]] = {
    "status": STATES, "invoice_status": INVOICE, "delivery_status": DELIVERY}  # fmt: skip


def mapped(name: str, i: int) -> str:
    """The portal's value of order i in one column: the map's for Odoo's."""
    pairs = dict(p.split(":") for p in MAPS[f"ORDERAMT_{name.upper()}_MAP"].split(","))
    return pairs[str(COLUMNS[name][i % len(COLUMNS[name])]).lower()]


def fill(engine: Engine, n: int, stale: bool) -> None:
    """The orders table, its three columns, and the portal's side of the data."""
    create_orders_table(engine)
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for name in COLUMNS:
            conn.execute(text(f"ALTER TABLE orders ADD COLUMN {quote(name)} VARCHAR(20) NULL"))
    day_ago = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(days=1)
    insert_orders(engine, [
        {"order_number": f"SO-{i}", "odoo_order_id": i, "created_at": day_ago,
         "updated_at": day_ago,
         "total_amount": Decimal("1.00") if i % 10 == 0 else Decimal(i) + Decimal("0.25")}
        for i in range(1, n + 1)])  # fmt: skip
    orders = table("orders", column("odoo_order_id"), *(column(name) for name in COLUMNS))
    with engine.begin() as conn:
        for name, cycle in COLUMNS.items():
            for r in range(len(cycle)):
                conn.execute(update(orders).where(orders.c.odoo_order_id % len(cycle) == r)
                             .values({name: mapped(name, r)}))  # fmt: skip
        if stale:
            conn.execute(update(orders).where(orders.c.odoo_order_id % 10 == 5)
                         .values(status="pending"))  # fmt: skip


def written(n: int) -> tuple[int, int]:
    """Orders whose amount differs in Odoo (i % 10 == 0); whose status does (i % 10 == 5)."""
    return n // 10, (n + 5) // 10


def check(engine: Engine, run: str, want: tuple[int, int, int]) -> None:
    """Exit 1 unless `want` = (amounts unlike Odoo's, orders whose columns are unlike the
    map's, journal entries)."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT odoo_order_id, total_amount, {', '.join(COLUMNS)} "
                                 "FROM orders")).all()  # fmt: skip
        entries = conn.execute(text("SELECT COUNT(*) FROM orderamt_journal")).scalar_one()
    amounts = sum(Decimal(str(r[1])) != Decimal(r[0]) + Decimal("0.25") for r in rows)
    columns = sum(list(r[2:]) != [mapped(name, r[0]) for name in COLUMNS] for r in rows)
    if (amounts, columns, entries) != want:
        raise SystemExit(f"{run}: (wrong amounts, wrong columns, journal entries) = "
                         f"{(amounts, columns, entries)}, expected {want}")  # fmt: skip


def measure(server: PortalServer, version: int, n: int, workdir: Path) -> dict[str, float]:
    """Each run once, each case on a fresh portal, the portal checked after each run."""
    odoo = start_odoo(argparse.Namespace(odoo_version=version))
    changed, stale = written(n)
    sync = [sys.executable, "-m", "orderamt", "sync", "--all", "--quiet"]
    figures: dict[str, float] = {}
    with answer_without_nagle_delay(), odoo:
        odoo.add_orders({"id": i, "amount_total": i + 0.25, "state": STATES[i % len(STATES)],
                         "invoice_status": INVOICE[i % len(INVOICE)],
                         "delivery_status": DELIVERY[i % len(DELIVERY)]}
                        for i in range(1, n + 1))  # fmt: skip
        odoo.latency = LATENCY_MS[version] / 1000
        for case, maps, behind in (("without", {}, 0), ("with", MAPS, 0),
                                   ("statuses", MAPS, stale)):  # fmt: skip
            with server.portal() as portal:
                fill(portal.engine, n, stale=bool(behind))
                env = {**sync_env(double_at(odoo.url, version), portal.url, workdir), **maps}
                figures[case] = timed(sync, env, workdir)
                check(portal.engine, case, (0, 0, changed + behind))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000", help="orders in the portal, comma-separated")
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, mariadb, or all")
    parser.add_argument("--versions", default="18,19", help="Odoo versions the double plays")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median")
    options = parser.parse_args(argv)
    kinds = KINDS if options.db == "all" else tuple(options.db.split(","))
    print(f"`sync --all --quiet`, 10% of amounts differ; median of {options.repeat}")
    print("| engine | Odoo | orders | without fields | with fields | ratio | target | "
          "| and 10% statuses written | ratio |\n" + "| --- " * 10 + "|")  # fmt: skip
    missed = 0
    with tempfile.TemporaryDirectory(prefix="orderamt-fields-") as tmp:
        for server in reachable(kinds, Path(tmp), lambda kind, why: f"| {kind} | skipped: {why} |"):
            kind = server.kind
            for n in (int(size) for size in options.sizes.split(",")):
                for version in (int(v) for v in options.versions.split(",")):
                    runs = [measure(server, version, n, Path(tmp)) for _ in range(options.repeat)]
                    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                    ratio = med["with"] / med["without"]
                    missed += ratio > TARGET
                    print(f"| {kind} | {version} | {n:,} | {med['without']:.2f} s "
                          f"| {med['with']:.2f} s | {ratio:.3f} | ≤ {TARGET:.2f} "
                          f"| {'met' if ratio <= TARGET else '**MISSED**'} "
                          f"| {med['statuses']:.2f} s "
                          f"| {med['statuses'] / med['without']:.3f} |")  # fmt: skip
    print("all targets met" if not missed else f"{missed} target(s) MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
