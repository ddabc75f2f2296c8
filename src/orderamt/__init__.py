"""orderamt: brings Odoo's sale order totals back into a customer portal's database."""

import logging

try:
    # Written by the build from the git history (pyproject.toml, [tool.versioningit]).
    from orderamt._version import __version__ as __version__
except ImportError:  # a source tree on sys.path that was never built or installed
    __version__ = "0+unknown"

# Records go nowhere until the command sets up its log file (not to stderr via lastResort).
logging.getLogger("orderamt").addHandler(logging.NullHandler())
