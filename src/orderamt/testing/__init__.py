"""Test doubles that ship with orderamt: `orderamt demo` runs on them, and so do the tests.

`OdooDouble` is an Odoo 17/18/19 server on 127.0.0.1 that answers as the real one does
(XML-RPC, and JSON-2 on 19) and can be made slow or broken on purpose.
"""

from orderamt.testing.odoo_double import OdooDouble

__all__ = ["OdooDouble"]
