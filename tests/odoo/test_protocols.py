"""Which protocol a run uses on each Odoo version, how each Odoo error reads, and retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from orderamt.errors import OdooError
from orderamt.odoo import Json2Odoo
from orderamt.testing import OdooDouble
from tests.conftest import API_KEY, Orderamt, PortalDb, _configured

RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def one_order(portal: PortalDb, odoo: OdooDouble) -> None:
    portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT}
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=10.0)


@pytest.fixture(params=[17, 18, 19])
def versioned(
    request: pytest.FixtureRequest, sqlite_portal: PortalDb, tmp_path: Path
) -> Iterator[tuple[OdooDouble, Orderamt]]:
    """An Odoo of each version with one order, and the command configured for it."""
    version = int(request.param)
    with OdooDouble(version=version, api_key=API_KEY) as odoo:
        one_order(sqlite_portal, odoo)
        protocol = "json2" if version >= 19 else "xmlrpc"
        yield odoo, _configured(sqlite_portal, odoo, protocol, tmp_path)


def test_auto_picks_json2_on_19_and_xmlrpc_before(
    versioned: tuple[OdooDouble, Orderamt], sqlite_portal: PortalDb
) -> None:
    """ODOO_PROTOCOL=auto reads the version once, then logs in and reads over the right API."""
    odoo, orderamt = versioned
    run = orderamt("sync")
    assert run.exit_code == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("10.00")}
    login = "context_get" if odoo.version >= 19 else "authenticate"
    assert odoo.calls == {"version": 1, login: 1, "search_read": 1}
    json2_paths = [path for path, _, _ in odoo.requests if path.startswith("/json/2/")]
    assert bool(json2_paths) == (odoo.version >= 19)


def test_xmlrpc_on_19_works_and_logs_deprecation(sqlite_portal: PortalDb, tmp_path: Path) -> None:
    """Forcing XML-RPC on a 19 still syncs, with a one-line deprecation notice in the log."""
    with OdooDouble(version=19, api_key=API_KEY) as odoo:
        one_order(sqlite_portal, odoo)
        orderamt = _configured(sqlite_portal, odoo, "xmlrpc", tmp_path)
        run = orderamt("sync", ODOO_PROTOCOL="xmlrpc", ODOO_PASSWORD=API_KEY)
        assert run.exit_code == 0, run.stderr
        assert odoo.calls["authenticate"] == 1
    notices = [
        line
        for line in orderamt.log_file.read_text().splitlines()
        if "XML-RPC is deprecated on this Odoo" in line
    ]
    assert len(notices) == 1
    assert '"odoo_version": "19.0"' in notices[0]


def test_json2_forced_on_18_is_refused(sqlite_portal: PortalDb, tmp_path: Path) -> None:
    """ODOO_PROTOCOL=json2 against an 18 says it has no JSON-2 API, exit 3, no write."""
    with OdooDouble(version=18) as odoo:
        one_order(sqlite_portal, odoo)
        orderamt = _configured(sqlite_portal, odoo, "xmlrpc", tmp_path)
        run = orderamt("sync", ODOO_PROTOCOL="json2")
    assert run.exit_code == 3
    assert run.stderr.strip() == (
        "orderamt: ODOO_PROTOCOL=json2, but Odoo 18.0 has no JSON-2 API (it came with "
        "Odoo 19): use ODOO_PROTOCOL=auto or xmlrpc"
    )
    assert sqlite_portal.amounts() == {"A": Decimal("1.00")}


def test_bad_protocol_setting(orderamt_sqlite: Orderamt) -> None:
    """An unknown ODOO_PROTOCOL is a configuration error."""
    run = orderamt_sqlite("sync", ODOO_PROTOCOL="soap")
    assert run.exit_code == 2
    assert "ODOO_PROTOCOL must be one of auto, xmlrpc, json2, got 'soap'" in run.stderr


@pytest.fixture
def odoo19(sqlite_portal: PortalDb, tmp_path: Path) -> Iterator[tuple[OdooDouble, Orderamt]]:
    with OdooDouble(version=19, api_key=API_KEY) as odoo:
        one_order(sqlite_portal, odoo)
        yield odoo, _configured(sqlite_portal, odoo, "json2", tmp_path)


@pytest.mark.parametrize(
    ("setup", "env", "expected"),
    [
        (
            None,
            {"ODOO_PASSWORD": "expired-key"},
            "Odoo refused the API key (Invalid apikey): ODOO_PASSWORD must be a valid API key "
            "of the Odoo user (see the README)",
        ),
        (
            "access",
            {},
            "Odoo refused search_read on sale.order: You are not allowed to access "
            "'Sales Order' (sale.order) records.",
        ),
        (None, {"ODOO_DB": "nodb"}, "Odoo has no database 'nodb' (check ODOO_DB)"),
        ("fault", {}, "Odoo answered search_read on sale.order with an error: "),
    ],
)
def test_json2_errors_are_one_line(
    odoo19: tuple[OdooDouble, Orderamt],
    sqlite_portal: PortalDb,
    setup: str | None,
    env: dict[str, str],
    expected: str,
) -> None:
    """401, 403, 404 and 500 from JSON-2 each give one line, exit 3, no key, no traceback."""
    odoo, orderamt = odoo19
    if setup == "access":
        odoo.fail("access", on="search_read")
    elif setup == "fault":
        odoo.fail("fault", on="search_read")
    before = sqlite_portal.rows()  # the orders; the run itself is recorded
    run = orderamt("sync", **env)
    assert run.exit_code == 3
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"orderamt: {expected}")
    assert API_KEY not in run.stdout + run.stderr + orderamt.log_file.read_text()
    assert "Traceback" not in run.stderr
    assert sqlite_portal.rows() == before


def test_json2_unprocessable_request_is_one_line() -> None:
    """A 422 (arguments Odoo will not take) becomes an OdooError with Odoo's message only."""
    with (
        OdooDouble(version=19, api_key=API_KEY) as odoo,
        Json2Odoo(odoo.url, "odoo", API_KEY, timeout=5) as client,
        pytest.raises(OdooError) as caught,
    ):
        client._post("sale.order", "search_read", {"ids": [1]}, "a bad search_read")
    assert str(caught.value) == (
        "Odoo answered a bad search_read with an error: cannot call sale.order.search_read with ids"
    )


def test_proxy_error_is_retried_then_succeeds(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """Two 502 pages from the proxy, then Odoo answers: the run retries, logs it, and exits 0."""
    one_order(sqlite_portal, odoo)
    odoo.fail("http", status=502, times=2, on="search_read")
    run = orderamt_sqlite("sync", ODOO_RETRIES="3", ODOO_RETRY_WAIT="0.05")
    assert run.exit_code == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("10.00")}
    assert odoo.calls["search_read"] == 3
    retries = [
        line
        for line in orderamt_sqlite.log_file.read_text().splitlines()
        if "Odoo call failed; retrying" in line
    ]
    assert len(retries) == 2
    assert "HTTP 502" in retries[0]


def test_retries_are_bounded(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """A server that keeps hanging gets the first attempt and ODOO_RETRIES more, then exit 3."""
    one_order(sqlite_portal, odoo)
    odoo.fail("hang")
    run = orderamt_sqlite("sync", ODOO_TIMEOUT="1", ODOO_RETRIES="2", ODOO_RETRY_WAIT="0.05")
    assert run.exit_code == 3
    assert "did not answer the version request within 1 s" in run.stderr
    assert odoo.calls["version"] == 3


def test_refused_login_is_not_retried(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> None:
    """A wrong password is tried once, however many retries are allowed."""
    one_order(sqlite_portal, odoo)
    run = orderamt_sqlite("sync", ODOO_PASSWORD="wrong", ODOO_RETRIES="5", ODOO_RETRY_WAIT="0")
    assert run.exit_code == 3
    assert sum(odoo.calls[name] for name in ("authenticate", "context_get")) == 1
