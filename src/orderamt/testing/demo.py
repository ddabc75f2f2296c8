"""`orderamt demo`: three built-in orders in a throw-away SQLite portal and the Odoo double."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine

from orderamt.config import OdooSettings, PortalSchema, Secret, Settings
from orderamt.testing.odoo_double import OdooDouble
from orderamt.testing.portal import create_orders_table, insert_orders
from orderamt.times import naive_utc

DEMO_ORDERS = [
    ("AFINET-SO-699C2E7046573", 41, "S00041", 950.00),
    ("AFINET-SO-699C2E20AFF48", 42, "S00042", 857.87),
    ("AFINET-SO-699C2DF59FE0D", 43, "S00043", 0.0),
]
"""Portal number, Odoo id, Odoo name, Odoo's amount: one change, one same, one still 0.00."""

PORTAL_AMOUNT = "857.87"


@contextmanager
def demo_setup(folder: Path, now: datetime) -> Iterator[tuple[Settings, str]]:
    """A portal in `folder` and a running Odoo double; yields the settings and Odoo's URL."""
    database = folder / "portal.db"
    engine = create_engine(f"sqlite:///{database}")
    create_orders_table(engine)
    insert_orders(
        engine,
        [
            {
                "order_number": number,
                "total_amount": PORTAL_AMOUNT,
                "odoo_order_id": odoo_id,
                "created_at": naive_utc(now) - timedelta(days=2, hours=i),
                "updated_at": naive_utc(now) - timedelta(days=2, hours=i),
            }
            for i, (number, odoo_id, _, _) in enumerate(DEMO_ORDERS)
        ],
    )
    engine.dispose()
    with OdooDouble() as odoo:
        for _, odoo_id, name, amount in DEMO_ORDERS:
            odoo.add_order(id=odoo_id, name=name, amount_total=amount, state="sale")
        yield (
            Settings(
                odoo=OdooSettings(odoo.url, "odoo", "admin", Secret("admin"), timeout=10),
                database_url=Secret(f"sqlite:///{database}"),
                schema=PortalSchema(),
                log_file=folder / "orderamt.log",
            ),
            odoo.url,
        )
