"""The adapters' pushes against the double as 17, 18 and 19, over XML-RPC and JSON-2: the
public action with the context key, and each refusal as the project's PushRefused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderamt.errors import PushRefused
from orderamt.odoo import Json2Odoo, XmlRpcOdoo
from orderamt.testing import OdooDouble
from tests.conftest import API_KEY

Adapter = XmlRpcOdoo | Json2Odoo
CASES = [(17, "xmlrpc"), (18, "xmlrpc"), (19, "xmlrpc"), (19, "json2")]


@pytest.fixture(params=CASES, ids=[f"{v}-{p}" for v, p in CASES])
def odoo_and_adapter(request: pytest.FixtureRequest) -> Iterator[tuple[OdooDouble, Adapter]]:
    version, protocol = request.param
    with OdooDouble(version=version, api_key=API_KEY) as odoo:
        adapter: Adapter
        if protocol == "json2":
            adapter = Json2Odoo(odoo.url, odoo.db, API_KEY, timeout=5)
        else:
            adapter = XmlRpcOdoo(odoo.url, odoo.db, "admin", "admin", timeout=5)
        with adapter:
            yield odoo, adapter


def test_a_confirmed_order_is_cancelled_and_set_back_to_quotation(
    odoo_and_adapter: tuple[OdooDouble, Adapter],
) -> None:
    """action_cancel with disable_cancel_warning cancels a confirmed order on every version
    (17 and 18 would answer a wizard without it); action_draft brings it back."""
    odoo, adapter = odoo_and_adapter
    odoo.add_order(id=7, state="sale", write_date="2026-12-01 10:00:00")
    adapter.push(7, "cancel")
    assert odoo.orders[7]["state"] == "cancel"
    assert odoo.orders[7]["write_date"] != "2026-12-01 10:00:00"
    adapter.push(7, "draft")
    assert odoo.orders[7]["state"] == "draft"
    assert odoo.calls["action_cancel"] == 1 and odoo.calls["_action_cancel"] == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"locked": True}, "You cannot cancel a locked order. Please unlock it first."),
        ({"draft_invoice": True}, "You are not allowed to"),
        ({"gone": True}, "Record does not exist or has been deleted."),
    ],
)
def test_each_refusal_is_the_order_s_push_refused(
    odoo_and_adapter: tuple[OdooDouble, Adapter], setup: dict[str, bool], message: str
) -> None:
    """A locked order, a Sales user cancelling an order with a draft invoice, an order gone:
    PushRefused with Odoo's own words, and nothing changed."""
    odoo, adapter = odoo_and_adapter
    if not setup.get("gone"):
        odoo.add_order(id=7, state="sale", locked=setup.get("locked", False))
    if setup.get("draft_invoice"):
        odoo.draft_invoices.add(7)
        odoo.admin = False
    with pytest.raises(PushRefused) as refused:
        adapter.push(7, "cancel")
    assert str(refused.value).startswith(message)
    assert "Traceback" not in str(refused.value)
    if not setup.get("gone"):
        assert odoo.orders[7]["state"] == "sale"
