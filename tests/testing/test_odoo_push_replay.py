"""Replays the calls recorded while pushing changes into live Odoo 17, 18 and 19 servers
(odoo1{7,8,9}-push.json) against OdooDouble, over XML-RPC and (19) JSON-2.

The recordings are a story per order: created, confirmed, written, cancelled, read back.
Each recorded call on sale.order that changes something (write, action_cancel, action_draft,
action_confirm, action_lock, action_unlock, and the refused _action_cancel) is one test: the
double is seeded with the order as the recording last read it (or as it was created), the
calls made on it since that read are made again, then the recorded call must get the
recorded answer (result, or fault code and last line, or JSON-2 status and error), and the
next recorded read of the order must show the same state, lock, client_order_ref,
commitment_date and note, with write_date moved exactly where Odoo moved it.

Not replayed, and named in `test_what_is_not_replayed`: calls on the models the double does
not serve (deliveries, invoices, the cancel wizard), `create` (its record is seeded instead),
and the legacy `/jsonrpc` calls (the double serves XML-RPC and JSON-2 only, as orderamt uses).
"""

from __future__ import annotations

import http.client
import json
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orderamt.testing import OdooDouble

RECORDINGS = Path(__file__).parent / "odoo-recordings"
KEY = "<KEY>"
OLD_STAMP = "2026-12-06 00:00:00"
"""The write_date seeded where the recording never read one (an order just created)."""

MUTATING = ("write", "action_cancel", "action_draft", "action_confirm", "action_lock",
            "action_unlock", "_action_cancel")  # fmt: skip
COMPARED = ("state", "locked", "client_order_ref", "commitment_date", "note")


@dataclass
class Step:
    index: int
    raw: dict[str, Any]

    @property
    def json2(self) -> bool:
        return str(self.raw["transport"]).startswith("JSON-2")

    @property
    def ids(self) -> list[int]:
        if self.json2:
            return list(self.raw["kwargs"].get("ids", []))
        first = self.raw["args"][0] if self.raw["args"] else []
        found = first if isinstance(first, list) else [first]
        return [i for i in found if isinstance(i, int) and not isinstance(i, bool)]


@dataclass
class Case:
    id: str
    version: int
    seed: list[dict[str, Any]]
    draft_invoices: set[int]
    before: list[Step]
    """The calls made on the case's orders since the recording last read them."""
    step: Step
    after: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The next recorded read of each order, where the recording read it before changing it."""
    stamps: dict[int, str] = field(default_factory=dict)
    """The write_date each order was seeded with."""


def _load(version: int) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = json.loads(
        (RECORDINGS / f"odoo{version}-push.json").read_text(encoding="utf-8")
    )
    return steps


def _replayable(raw: dict[str, Any]) -> bool:
    transport = str(raw["transport"])
    return (
        raw["model"] == "sale.order"
        and raw["method"] in MUTATING
        and (transport.startswith("XML-RPC") or transport.startswith("JSON-2"))
    )


def _cases(version: int) -> list[Case]:
    steps = [Step(i, raw) for i, raw in enumerate(_load(version))]
    known: dict[int, dict[str, Any]] = {}  # each order as last read (or created)
    since: dict[int, list[Step]] = {}  # the calls made on it since
    invoices: dict[int, list[int]] = {}
    invoice_state: dict[int, str] = {}
    cases = []
    for position, step in enumerate(steps):
        raw = step.raw
        result: Any = raw.get("result")
        if raw["model"] == "sale.order" and raw["method"] == "create" and "result" in raw:
            vals = raw["args"][0] if raw["args"] else raw["kwargs"]["vals_list"][0]
            new_id = result if isinstance(result, int) else result[0]
            known[new_id] = {"id": new_id, "state": "draft", "locked": False,
                             "client_order_ref": vals.get("client_order_ref", False),
                             "commitment_date": False, "note": False}  # fmt: skip
            since[new_id] = []
        elif raw["method"] == "read" and isinstance(result, list):
            for record in result:
                if raw["model"] == "account.move":
                    invoice_state[record["id"]] = record.get("state", "")
                elif raw["model"] == "sale.order":
                    known.setdefault(record["id"], {"id": record["id"]}).update(record)
                    since[record["id"]] = []
                    if "invoice_ids" in record:
                        invoices[record["id"]] = record["invoice_ids"]
        elif _replayable(raw):
            ids = step.ids
            before = sorted({s.index: s for i in ids for s in since.get(i, [])}.values(),
                            key=lambda s: s.index)  # fmt: skip
            seed = [_seed(known[i]) for i in ids if i in known]
            drafts = {i for i in ids if _draft_invoice(invoices.get(i, []), invoice_state)}
            case = Case(f"odoo{version}-push #{step.index}: {raw['name']}", version, seed,
                        drafts, before, step)  # fmt: skip
            case.stamps = {row["id"]: row["write_date"] for row in seed}
            case.after = _next_reads(steps[position + 1 :], ids)
            cases.append(case)
            for i in ids:
                since.setdefault(i, []).append(step)
        elif raw["model"] == "sale.order" and raw["method"] != "read":
            for i in step.ids:
                since.setdefault(i, []).append(step)
    return cases


def _draft_invoice(invoice_ids: list[int], states: dict[int, str]) -> bool:
    return any(states.get(invoice) == "draft" for invoice in invoice_ids)


def _seed(record: dict[str, Any]) -> dict[str, Any]:
    row = {"id": record["id"], "write_date": record.get("write_date") or OLD_STAMP}
    for name in ("name", *COMPARED):
        if name in record:
            row[name] = record[name]
    return row


def _next_reads(rest: list[Step], ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each order's next read, unless something changes it first."""
    found: dict[int, dict[str, Any]] = {}
    open_ids = set(ids)
    for step in rest:
        raw = step.raw
        if raw["model"] == "sale.order" and raw["method"] == "read":
            for record in raw.get("result") or []:
                if record["id"] in open_ids:
                    found[record["id"]] = record
                    open_ids.discard(record["id"])
        elif raw["model"] == "sale.order":
            open_ids -= set(step.ids)
        elif raw["method"] != "read":
            break  # a delivery or an invoice changes the order in ways the double lacks
        if not open_ids:
            break
    return found


CASES = [case for version in (17, 18, 19) for case in _cases(version)]


# -- calling the double as the recording called Odoo ---------------------------------------------


def _call(odoo: OdooDouble, step: Step) -> tuple[str, Any]:
    """("result", value), ("fault", (code, last line)) or ("http", (status, error body))."""
    raw = step.raw
    odoo.admin = raw["user"] == "admin"
    if step.json2:
        host, port = odoo.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            body = json.dumps(raw["kwargs"]).encode()
            headers = {"Authorization": f"bearer {KEY}", "Content-Type": "application/json",
                       "X-Odoo-Database": odoo.db}  # fmt: skip
            connection.request("POST", f"/json/2/sale.order/{raw['method']}", body, headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
        finally:
            connection.close()
        if response.status == 200:
            return "result", answer
        return "http", (response.status, {k: answer[k] for k in ("name", "message", "arguments")})
    proxy = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/object")
    try:
        result = proxy.execute_kw(odoo.db, 2, "admin", "sale.order", raw["method"], raw["args"],
                                  raw["kwargs"])  # fmt: skip
    except xmlrpc.client.Fault as fault:
        lines = [line for line in fault.faultString.splitlines() if line.strip()]
        return "fault", (fault.faultCode, lines[-1])
    finally:
        proxy("close")()
    return "result", result


def _recorded(step: Step) -> tuple[str, Any]:
    raw = step.raw
    if "error" not in raw:
        return "result", raw["result"]
    if step.json2:
        body = raw["error_body"]
        return "http", (raw["http_status"], {k: body[k] for k in ("name", "message", "arguments")})
    return "fault", (raw["fault_code"], raw["error"])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_recorded_push_gets_the_recorded_answer(case: Case) -> None:
    """The double answers this recorded call as Odoo did, and leaves the order as Odoo did."""
    with OdooDouble(version=case.version, db=f"odoo{case.version}", api_key=KEY) as odoo:
        odoo.add_orders(case.seed)
        odoo.draft_invoices.update(case.draft_invoices)
        for earlier in case.before:
            assert _call(odoo, earlier) == _recorded(earlier), f"earlier step #{earlier.index}"
        answer = _call(odoo, case.step)
        orders = {i: dict(odoo.orders[i]) for i in case.after}

    assert answer == _recorded(case.step)
    for order_id, read in case.after.items():
        got = orders[order_id]
        for name in COMPARED:
            if name in read:
                assert got.get(name, False) == read[name], name
        moved = read["write_date"] != case.stamps.get(order_id)
        assert (got["write_date"] != case.stamps.get(order_id)) == moved, "write_date moved"


def test_what_is_not_replayed() -> None:
    """Every recorded call is either replayed above, a read the cases compare with, or one of
    the kinds the double does not serve, each counted here so that a new recording is seen."""
    left: Counter[str] = Counter()
    replayed = 0
    for version in (17, 18, 19):
        for raw in _load(version):
            if _replayable(raw):
                replayed += 1
            elif raw["method"] == "read" or raw["method"] == "search_read":
                continue
            elif not str(raw["transport"]).startswith(("XML-RPC", "JSON-2")):
                left["legacy /jsonrpc"] += 1
            elif raw["model"] == "sale.order":
                left[f"sale.order.{raw['method']}"] += 1
            else:
                left["deliveries, invoices, wizards, lines"] += 1
    assert replayed == len(CASES)
    assert set(left) == {"legacy /jsonrpc", "sale.order.create",
                         "deliveries, invoices, wizards, lines"}  # fmt: skip
