"""Which Odoo answers: its version, read once per run from the JSON-RPC endpoint all have."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orderamt.errors import OdooError
from orderamt.odoo.net import JsonHttp, http_status_error, is_json, parse_json
from orderamt.urls import mask_url

VERSION_PATH = "/web/webclient/version_info"


@dataclass(frozen=True)
class ServerVersion:
    major: int
    text: str

    @property
    def has_json2(self) -> bool:
        return self.major >= 19

    @property
    def posts_after_commit(self) -> bool:
        """Whether an automation rule's webhook leaves after the save is committed (19 and
        later); 17 and 18 post inside the saving transaction, before its commit, so a read
        at once may still see the old values."""
        return self.major >= 19


def read_version(http: JsonHttp) -> ServerVersion:
    """Odoo's version, decided on `server_version_info[0]`, never on the display string.

    Nightly builds say '18.0-20250506' and Odoo Online 'saas~18.3'; the number is what counts.
    """
    what = "the version request"
    body = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}
    status, reason, text, headers = http.request("POST", VERSION_PATH, what, body)
    if status != 200:
        raise http_status_error(status, reason, http.url, what)
    answer = parse_json(text) if is_json(headers) else None
    result = answer.get("result") if isinstance(answer, dict) else None
    if isinstance(result, dict):
        info = result.get("server_version_info")
        first = info[0] if isinstance(info, list) and info else result.get("server_serie")
        match = re.search(r"\d+", str(first)) if first is not None else None
        if match:
            return ServerVersion(int(match.group()), str(result.get("server_version", first)))
    kind = "an HTML page" if "html" in headers.get("content-type", "") else "something"
    raise OdooError(
        f"{mask_url(http.url)} answered {what} with {kind} that is not Odoo's answer "
        "(is ODOO_URL the address of Odoo itself?)"
    )
