"""Finding portal orders by Odoo id, the lookup each poll and webhook batch makes, with and
without an index on the Odoo id column (what `orderamt check` asks for from 50,000 orders on).

    python bench/lookup.py                                  # SQLite, 100,000 orders
    python bench/lookup.py --db all --orders 100000,1000000

Per engine and size: a portal of the Laravel table (no index on `odoo_order_id`, as its
migration makes it), then orderamt's own `PortalOrders.by_odoo_ids` for one order (what a
webhook batch of one change and a quiet poll's read-back look up), timed `--repeat` times
in this process after a first warm call; then the same with the index `check` proposes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from data import load_portal, make_dataset  # noqa: E402
from servers import KINDS, PortalServer  # noqa: E402

from orderamt.config import PortalSchema  # noqa: E402
from orderamt.portal import Database, open_portal  # noqa: E402
from orderamt.portal.lookup import odoo_id_lookup  # noqa: E402

INDEX = "orders_odoo_order_id_index"


def lookup_ms(engine: object, odoo_ids: Sequence[int], repeat: int) -> float:
    """The median time of `by_odoo_ids` for one order, each time another one."""
    orders, _ = open_portal(engine, PortalSchema())  # type: ignore[arg-type]
    orders.check()
    orders.by_odoo_ids([odoo_ids[0]])
    times = []
    for i in range(repeat):
        wanted = odoo_ids[(i * 7919) % len(odoo_ids)]
        start = time.perf_counter()
        found = orders.by_odoo_ids([wanted])
        times.append(time.perf_counter() - start)
        if wanted not in found:
            raise SystemExit(f"order with Odoo id {wanted} not found")
    return statistics.median(times) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/lookup.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql, mariadb, or all")
    parser.add_argument(
        "--orders", default="100000", help="portal sizes, comma-separated (default 100000)"
    )
    parser.add_argument("--repeat", type=int, default=25, help="lookups timed (default 25)")
    options = parser.parse_args(argv)
    kinds = list(KINDS) if options.db == "all" else options.db.split(",")
    sizes = [int(n) for n in options.orders.split(",")]
    print("engine      orders     no index   index (median ms of one lookup by Odoo id)")
    with tempfile.TemporaryDirectory(prefix="orderamt-lookup-") as tmp:
        for kind in kinds:
            for n in sizes:
                server = PortalServer(kind, None, Path(tmp))
                why = server.problem()
                if why:
                    print(f"{kind}: skipped ({why})", file=sys.stderr)
                    break
                dataset = make_dataset(n, min(n, 1_000), datetime.now(timezone.utc))
                with server.portal() as portal:
                    load_portal(portal.engine, dataset)
                    ids = [o.odoo_id for o in dataset.orders]
                    without = lookup_ms(portal.engine, ids, options.repeat)
                    with portal.engine.begin() as conn:
                        conn.execute(text(f"CREATE INDEX {INDEX} ON orders (odoo_order_id)"))
                    seen = odoo_id_lookup(Database(portal.engine), PortalSchema()).index
                    if seen != INDEX:
                        raise SystemExit(f"{kind}: `orderamt check` would see index {seen}")
                    with_index = lookup_ms(portal.engine, ids, options.repeat)
                print(f"{kind:<11} {n:>9,} {without:8.2f} ms {with_index:8.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
