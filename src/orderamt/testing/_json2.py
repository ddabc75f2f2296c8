"""JSON over HTTP: the JSON-2 API of Odoo 19 (`/json/2/<model>/<method>`), what 17 and 18
answer on its paths, and the two version endpoints every version serves.

JSON-2 checks a request in Odoo's order: the database header, the Content-Type (415), the
route (a catch-all 404 for anything but `POST /json/2/<model>/<method>`), the bearer key
(401), the JSON body (400), then the controller: model (404), method (403 private, 404
unknown), ids on an `@api.model` method (422), the arguments (422), and the call (500).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any
from urllib.parse import quote

from orderamt.testing._faults import OdooFault, from_exception, web_error
from orderamt.testing._http import (
    JSON,
    Call,
    Request,
    Response,
    method_not_allowed,
    no_database,
    odoo17_not_found,
    redirect,
    unsupported_media_type,
)
from orderamt.testing._odoo import Database, version_info

_RPC_PATH = re.compile(r"^/json/2/([^/]+)/([^/]+)$")
_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)
_NOT_AUTHENTICATED = "User not authenticated, use an API Key with a Bearer Authorization header."
_DID_YOU_MEAN = "Did you mean POST /json/2/<model>/<method>?"


def prepare(odoo: Database, request: Request) -> Call:
    """A request to a `/json/2` path, answered as the double's Odoo version does."""
    match = _RPC_PATH.match(request.path)
    model, method = match.groups() if match else (None, "")
    summary = f"json2: {model}.{method} {request.body[:200]!r}"
    if odoo.version == 17:
        return Call(method, summary, lambda _: odoo17_not_found(), rpc=False)
    if odoo.version == 18:
        # 18 has no JSON-2: the request is sent to the login page, its query kept.
        location = "/web/login?redirect=" + quote(f"{request.path}?{request.query}", safe="")
        return Call(method, summary, lambda _: redirect(location), rpc=False)

    def answer(inject: OdooFault | None) -> Response:
        try:
            target = (match[1], match[2]) if match and request.verb == "POST" else None
            return _answer(odoo, request, target, inject)
        except OdooFault as error:
            return error_response(error)
        except Exception as exc:  # a result JSON cannot carry, or a bad argument
            return error_response(from_exception(exc))

    return Call(method, summary, answer, model=model)


def error_response(error: OdooFault) -> Response:
    """JSON-2's error body; a 401 also tells the client which scheme to use."""
    body = {
        "name": error.name,
        "message": error.message,
        "arguments": error.arguments,
        "context": {},
        "debug": error.traceback,
    }
    headers = (("WWW-Authenticate", "Bearer "),) if error.status == 401 else ()
    return Response(error.status, JSON, _dumps(body), headers)


def _answer(
    odoo: Database,
    request: Request,
    target: tuple[str, str] | None,
    inject: OdooFault | None,
) -> Response:
    database = request.header("x-odoo-database")
    if database and database != odoo.name:
        return no_database()
    if request.body and request.media_type != "application/json":
        return unsupported_media_type("/json/2/<__model__>/<__method__>", "json2")
    if target is None:  # the catch-all route: no key needed to be told the way
        raise web_error(404, _DID_YOU_MEAN)
    _authenticate(odoo, request.header("authorization"))
    params = _params(request.body)
    model, method = target
    return Response(200, JSON, _dumps(_call(odoo, model, method, params, inject)))


def _authenticate(odoo: Database, authorization: str | None) -> None:
    match = _BEARER.match(authorization or "")
    if match is None:
        raise web_error(401, _NOT_AUTHENTICATED)
    if not odoo.key_ok(match.group(1)):
        raise web_error(401, "Invalid apikey")


def _params(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        params = json.loads(body)
    except ValueError as exc:
        raise web_error(400, f"could not parse the body as json: {exc.args[0]}") from None
    if not isinstance(params, dict):
        raise web_error(400, "could not parse the body, expecting a json object")
    return params


def _call(
    odoo: Database, model_name: str, method: str, params: dict[str, Any], inject: OdooFault | None
) -> Any:
    """The `web_json_2_rpc` controller."""
    ids = params.pop("ids", ())
    context = params.pop("context", None)
    model = odoo.models.get(model_name)
    if model is None:
        raise web_error(404, f"the model {model_name!r} does not exist")
    try:
        odoo.public_method(model, method)
    except OdooFault as error:
        if error.name == "builtins.AttributeError":
            raise web_error(404, error.message) from None
        raise
    if method in model.methods.API_MODEL and ids:
        raise web_error(422, f"cannot call {model_name}.{method} with ids")
    function = getattr(odoo.records(model, ids, context), method)
    try:
        inspect.signature(function).bind(**params)
    except TypeError as exc:
        raise web_error(422, str(exc.args[0])) from None
    if inject is not None:
        raise inject
    return function(**params)


def prepare_version_info(odoo: Database, request: Request) -> Call:
    """JSON-RPC `/web/webclient/version_info`, served by every version."""
    if request.verb != "POST":
        return Call("version", "GET version_info", lambda _: method_not_allowed(), rpc=False)

    def answer(inject: OdooFault | None) -> Response:
        if request.body and request.media_type not in ("application/json", "application/json-rpc"):
            return unsupported_media_type("/web/webclient/version_info", "json")
        try:
            call = json.loads(request.body or b"{}")
        except ValueError as exc:
            call = {}
            inject = from_exception(exc)
        request_id = call.get("id") if isinstance(call, dict) else None
        if inject is not None:
            return Response(200, JSON, _dumps(_jsonrpc_error(request_id, inject)))
        result = {"jsonrpc": "2.0", "id": request_id, "result": version_info(odoo.version)}
        return Response(200, JSON, _dumps(result))

    return Call("version", "jsonrpc: version_info", answer)


def prepare_web_version(odoo: Database) -> Call:
    """`GET /web/version`."""
    body = {"version_info": version_info(odoo.version)["server_version_info"]}
    body["version"] = f"{odoo.version}.0"
    return Call("version", "web: version", lambda _: Response(200, JSON, _dumps(body)), rpc=False)


def _jsonrpc_error(request_id: Any, error: OdooFault) -> dict[str, Any]:
    """Odoo's JSON-RPC error envelope (HTTP 200, the error inside)."""
    data = {
        "name": error.name,
        "debug": error.traceback,
        "message": error.message,
        "arguments": error.arguments,
        "context": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": 200, "message": "Odoo Server Error", "data": data},
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
