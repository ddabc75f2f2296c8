"""The per-order reference: how the original tool synced amounts, kept only to measure against.

One Odoo call per order and one UPDATE (its own transaction) per changed order, no
batching: read every portal order with an Odoo id, then for each one ask Odoo for that
sale order's `amount_total` and, when it is above 0.00 and differs from the portal's,
write it. The decision rule is orderamt's (amounts compared rounded to the cent), so both
must leave the portal in the same state. Configured by the same environment variables as
orderamt (ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD, PORTAL_DATABASE_URL).

Not part of orderamt, and not to be used on a real portal: it has none of orderamt's
checks, error handling or protection against overwriting a concurrent change.
"""

from __future__ import annotations

import os
import xmlrpc.client
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import create_engine, text

CENT = Decimal("0.01")


def to_cents(value: Any) -> Decimal:
    """An amount read from the portal or from Odoo, rounded to the cent."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def main() -> None:
    env = os.environ
    url, db = env["ODOO_URL"].rstrip("/"), env["ODOO_DB"]
    username, password = env["ODOO_USERNAME"], env["ODOO_PASSWORD"]
    engine = create_engine(env["PORTAL_DATABASE_URL"])
    sqlite = engine.dialect.name == "sqlite"
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object")
    try:
        uid = common.authenticate(db, username, password, {})
        with engine.connect() as conn:
            orders = conn.execute(
                text(
                    "SELECT id, order_number, total_amount, odoo_order_id FROM orders "
                    "WHERE odoo_order_id IS NOT NULL ORDER BY id"
                )
            ).all()
        print(f"Found {len(orders)} orders with Odoo IDs")
        updated = 0
        for order_id, number, amount, odoo_id in orders:
            found = models.execute_kw(
                db,
                uid,
                password,
                "sale.order",
                "search_read",
                [[("id", "=", int(odoo_id))]],
                {"fields": ["amount_total"]},
            )
            if not found:
                print(f"  {number}: sale order {odoo_id} not found in Odoo")
                continue
            new = to_cents(found[0]["amount_total"])
            old = None if amount is None else to_cents(amount)
            if new <= 0 or new == old:
                print(f"  {number}: no change ({old})")
                continue
            now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE orders SET total_amount = :amount, updated_at = :now WHERE id = :id"
                    ),
                    {
                        "amount": str(new) if sqlite else new,
                        "now": now.strftime("%Y-%m-%d %H:%M:%S") if sqlite else now,
                        "id": order_id,
                    },
                )
            updated += 1
            print(f"  {number}: {old} -> {new}")
        print(f"Synced: {len(orders)} ({updated} updated)")
    finally:
        common("close")()
        models("close")()
        engine.dispose()


if __name__ == "__main__":
    main()
