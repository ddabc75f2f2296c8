"""orderamt: brings Odoo's sale order totals back into a customer portal's database."""

import logging

# The one place the version lives (pyproject reads it): importlib.metadata would cost
# every hourly run about 45 ms of start-up.
__version__ = "0.1.0"

# Records go nowhere until the command sets up its log file (not to stderr via lastResort).
logging.getLogger("orderamt").addHandler(logging.NullHandler())
