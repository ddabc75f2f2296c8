"""Talking to Odoo: each transport turns faults, HTTP and socket errors into OdooError."""

from orderamt.odoo.records import FIELDS, parse_records
from orderamt.odoo.xmlrpc import XmlRpcOdoo

__all__ = ["FIELDS", "XmlRpcOdoo", "parse_records"]
