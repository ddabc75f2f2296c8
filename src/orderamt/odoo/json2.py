"""Odoo 19 and later over the JSON-2 API (`POST /json/2/<model>/<method>`, an API key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from orderamt.errors import LoginRefused, OdooError, OdooRefused
from orderamt.models import Cursor, OdooTotal
from orderamt.odoo.net import (
    TRANSIENT_STATUSES,
    JsonHttp,
    http_status_error,
    is_json,
    parse_json,
    server_clock,
)
from orderamt.odoo.push import check_pushed, push_call, refusal
from orderamt.odoo.records import (
    changed_query,
    created_id,
    fields_to_read,
    missing_field_error,
    parse_record_list,
    parse_records,
    record_dicts,
    summary,
)
from orderamt.odoo.retry import NO_RETRIES, RetryPolicy, with_retries
from orderamt.urls import mask_url


class Json2Odoo:
    """Reads sale order totals with an API key, one `search_read` per batch of ids."""

    protocol = "json2"

    def __init__(
        self,
        url: str,
        db: str,
        api_key: str,
        timeout: float,
        retry: RetryPolicy = NO_RETRIES,
        fields: Sequence[str] = (),
    ) -> None:
        self.url = url.rstrip("/")
        self.extra = tuple(fields)
        """The mapped fields' Odoo names, read beside the amount."""
        self.fields = fields_to_read(self.extra)
        self.db = db
        self._api_key = api_key
        self.retry = retry
        self._http = JsonHttp(self.url, timeout)
        self._uid: int | None = None

    @property
    def uid(self) -> int | None:
        """The key's user id, once proved (None before the login)."""
        return self._uid

    def resume(self, uid: int) -> None:
        """Take the key as proved by an earlier login: every call sends it, and a key Odoo
        no longer takes is refused at the first one."""
        self._uid = uid

    def close(self) -> None:
        self._http.close()

    def answered_at(self) -> datetime | None:
        """Odoo's clock when it last answered."""
        return server_clock(self._http.date)

    def __enter__(self) -> Json2Odoo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _post(
        self, model: str, method: str, body: dict[str, Any], what: str, *, push: bool = False
    ) -> Any:
        """One call; with `push`, Odoo's refusal (HTTP 403, 404 or 422 with its message) is
        the order's PushRefused."""
        headers = {"Authorization": f"bearer {self._api_key}", "X-Odoo-Database": self.db}

        def attempt() -> Any:
            status, reason, text, received = self._http.request(
                "POST", f"/json/2/{model}/{method}", what, body, headers
            )
            answer = parse_json(text) if is_json(received) else None
            if status == 200 and answer is not None:
                return answer
            message = answer.get("message") if isinstance(answer, dict) else None
            if push and status in (403, 404, 422) and isinstance(message, str):
                raise refusal(message)
            raise self._error(status, reason, text, answer, what)

        return with_retries(what, attempt, self.retry)

    def _error(self, status: int, reason: str, text: str, answer: Any, what: str) -> OdooError:
        """Odoo's JSON error as one line: its `message`, never its `debug` traceback."""
        where = mask_url(self.url)
        message = answer.get("message") if isinstance(answer, dict) else None
        message = summary(message) if isinstance(message, str) else None
        if status in TRANSIENT_STATUSES:
            return http_status_error(status, reason, self.url, what)
        if status == 200:
            return OdooError(
                f"Odoo at {where} answered {what} with something that is not JSON "
                "(an HTML page? check ODOO_URL)"
            )
        if 300 <= status < 400:
            return OdooError(
                f"Odoo at {where} has no JSON-2 API (it sends {what} to its login page): "
                "Odoo before 19 needs ODOO_PROTOCOL=xmlrpc"
            )
        if status == 401:
            return LoginRefused(
                f"Odoo refused the API key ({message or 'unauthorized'}): ODOO_PASSWORD must "
                "be a valid API key of the Odoo user (see the README)"
            )
        if status == 403:
            return OdooRefused(f"Odoo refused {what}: {message or reason}")
        if status == 404 and message is None:
            if "No database is selected" in text:
                return OdooError(f"Odoo has no database '{self.db}' (check ODOO_DB)")
            return OdooError(
                f"Odoo at {where} has no JSON-2 API (HTTP 404): Odoo before 19 needs "
                "ODOO_PROTOCOL=xmlrpc; otherwise check ODOO_URL"
            )
        if message is not None:
            missing = missing_field_error(message, self.extra)
            return missing or OdooError(f"Odoo answered {what} with an error: {message}")
        return http_status_error(status, reason, self.url, what)

    def login(self) -> None:
        """Prove the key works before any order is read (a cheap call)."""
        answer = self._post("res.users", "context_get", {}, "the login")
        uid = answer.get("uid") if isinstance(answer, dict) else None
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise OdooError("Odoo answered the login with something unusable")
        self._uid = uid

    def fetch_totals(self, ids: Sequence[int]) -> dict[int, OdooTotal]:
        """One search_read for the whole batch of ids."""
        if not ids:
            return {}
        body = {"domain": [["id", "in", list(ids)]], "fields": self.fields}
        answer = self._post("sale.order", "search_read", body, "search_read on sale.order")
        return parse_records(answer, set(ids), self.extra)

    def changed_since(self, since: str, after: Cursor | None, limit: int) -> list[OdooTotal]:
        """A page of at most `limit` orders written at or after `since`, past `after`."""
        domain, order = changed_query(since, after)
        body = {
            "domain": domain,  # json.dumps sends tuples as arrays
            "fields": self.fields,
            "order": order,
            "limit": limit,
        }  # fmt: skip
        answer = self._post("sale.order", "search_read", body, "search_read of changed sale orders")
        return parse_record_list(answer, self.extra)

    def search_records(
        self, model: str, domain: list[Any], fields: list[str], what: str
    ) -> list[dict[str, Any]]:
        """Any model's records, as search_read gives them."""
        body = {"domain": domain, "fields": fields}
        return record_dicts(self._post(model, "search_read", body, what), what)

    def create_record(self, model: str, values: dict[str, Any], what: str) -> int:
        """One record created (JSON-2's create takes `vals_list` and answers the ids)."""
        return created_id(self._post(model, "create", {"vals_list": [values]}, what), what)

    def push(self, odoo_id: int, action: str, values: Mapping[str, object] | None = None) -> None:
        """One portal change into Odoo (`odoo.push`)."""
        method, more, kwargs = push_call(action, values)
        what = f"{method} on sale order {odoo_id}"
        body = {"ids": [odoo_id], **kwargs, **({"vals": more[0]} if more else {})}
        answer = self._post("sale.order", method, body, what, push=True)
        check_pushed(answer, what)
