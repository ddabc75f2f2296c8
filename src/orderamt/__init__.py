"""orderamt: brings Odoo's sale order totals back into a customer portal's database."""

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("orderamt")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

# Records go nowhere until the command sets up its log file (not to stderr via lastResort).
logging.getLogger("orderamt").addHandler(logging.NullHandler())
