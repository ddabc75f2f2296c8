"""XML-RPC (`/xmlrpc/2/<service>`) as Odoo 17, 18 and 19 serve it.

The wire format is Python's own (`xmlrpc.client.dumps`/`loads`), as in Odoo. Every error
becomes a fault with HTTP status 200, its code chosen as Odoo's
`xmlrpc_handle_exception_int` does: 4 access error, 3 access denied, 2 user error or
missing record, 1 anything else (with the traceback as the fault string).
"""

from __future__ import annotations

import inspect
import xmlrpc.client
from collections.abc import Callable
from typing import Any

from orderamt.testing._faults import OdooFault, from_exception, python_error, user_error
from orderamt.testing._http import XML, Call, Request, Response, method_not_allowed
from orderamt.testing._odoo import Database, version_info

SERVICES = ("common", "object", "db")


def bind(func: Callable[..., Any], *args: Any, **kwargs: Any) -> inspect.BoundArguments:
    """Bind arguments as a Python call would, failing with the TypeError Python words."""
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except TypeError:
        try:
            func(*args, **kwargs)  # fails the same way, in CPython's own words
        except TypeError as exc:
            raise python_error("TypeError", str(exc)) from None
        raise
    bound.apply_defaults()
    return bound


# Signatures of Odoo's service functions: binding against them words argument errors as
# Odoo's server does ("exp_authenticate() missing 1 required positional argument: ...").
def exp_version() -> None:
    """odoo.service.common.exp_version"""


def exp_authenticate(db: Any, login: Any, password: Any, user_agent_env: Any) -> None:
    """odoo.service.common.exp_authenticate"""


def exp_login(db: Any, login: Any, password: Any) -> None:
    """odoo.service.common.exp_login"""


def execute_kw(db: Any, uid: Any, obj: Any, method: Any, args: Any, kw: Any = None) -> None:
    """odoo.service.model.execute_kw"""


def execute(db: Any, uid: Any, obj: Any, method: Any, *args: Any, **kw: Any) -> None:
    """odoo.service.model.execute"""


def prepare(odoo: Database, request: Request, service: str) -> Call:
    """Read an XML-RPC request far enough to name its method; answer it later."""
    if request.verb != "POST":
        return Call("", f"{request.verb} {request.path}", lambda _: method_not_allowed(), rpc=False)
    try:
        params, method = xmlrpc.client.loads(request.body)
    except Exception as exc:  # Odoo faults on a body it cannot parse, like on any exception
        error = from_exception(exc)
        return Call("", "unparsable XML-RPC body", lambda _: fault(error))
    method = method or ""
    name, model = method, None
    if service == "object" and method in ("execute_kw", "execute") and len(params) > 4:
        model, name = str(params[3]), str(params[4])
    summary = _summary(service, method, params)

    def answer(inject: OdooFault | None) -> Response:
        try:
            result = _dispatch(odoo, service, method, params, request.client, inject)
            body = xmlrpc.client.dumps((result,), methodresponse=True, encoding="utf-8")
        except OdooFault as error:
            return fault(error)
        except Exception as exc:  # a value Odoo could not marshal, or a bad argument
            return fault(from_exception(exc))
        return Response(200, XML, body.encode())

    return Call(name, summary, answer, model=model)


def fault(error: OdooFault) -> Response:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(error.fault_code, error.fault_string))
    return Response(200, XML, body.encode())


def _summary(service: str, method: str, params: tuple[Any, ...]) -> str:
    if service == "object" and len(params) > 4:
        # Leave out the password: the summary is for reading in test output.
        what = f"{params[3]}.{params[4]} {list(params[5:])!r}"
    elif method in ("authenticate", "login"):
        what = f"{method} {params[:2]!r}"
    else:
        what = f"{method} {params!r}"
    return f"{service}: {what}"[:300]


def _dispatch(
    odoo: Database,
    service: str,
    method: str,
    params: tuple[Any, ...],
    client: str,
    inject: OdooFault | None,
) -> Any:
    """`odoo.http.dispatch_rpc`: an unknown service is a KeyError, as in Odoo."""
    if service == "common":
        return _common(odoo, method, params, client, inject)
    if service == "object":
        return _object(odoo, method, params, client, inject)
    if service == "db":
        return _db(odoo, method, params, inject)
    raise python_error("KeyError", repr(service))


def _common(
    odoo: Database, method: str, params: tuple[Any, ...], client: str, inject: OdooFault | None
) -> Any:
    functions: dict[str, Callable[..., Any]] = {
        "version": exp_version,
        "authenticate": exp_authenticate,
        "login": exp_login,
    }
    if method not in functions:
        raise python_error("KeyError", repr(f"exp_{method}"))
    args = bind(functions[method], *params).args
    if inject is not None:
        raise inject
    if method == "version":
        return version_info(odoo.version)
    db, login, password = args[:3]
    return odoo.authenticate(db, login, password, client)


def _db(odoo: Database, method: str, params: tuple[Any, ...], inject: OdooFault | None) -> Any:
    """The few `db` service calls a client may use to look around."""
    if method not in ("list", "server_version", "db_exist"):
        raise python_error("KeyError", repr(f"exp_{method}"))
    if inject is not None:
        raise inject
    if method == "list":
        return [odoo.name]
    if method == "server_version":
        return f"{odoo.version}.0"
    return bool(params) and params[0] == odoo.name


def _object(
    odoo: Database, method: str, params: tuple[Any, ...], client: str, inject: OdooFault | None
) -> Any:
    """`odoo.service.model.dispatch`: check the login, then run execute or execute_kw."""
    if method not in ("execute", "execute_kw"):
        raise python_error("NameError", f"Method not available {method}")
    db, uid, password = params[0], int(params[1]), params[2]
    odoo.check(db, uid, password, client)
    if method == "execute_kw":
        bound = bind(execute_kw, db, uid, *params[3:]).arguments
        model, name, args, kwargs = bound["obj"], bound["method"], bound["args"], bound["kw"]
    else:
        bound = bind(execute, db, uid, *params[3:]).arguments
        model, name, args, kwargs = bound["obj"], bound["method"], bound["args"], {}
    return _execute(odoo, model, name, list(args), dict(kwargs or {}), inject)


def _execute(
    odoo: Database,
    model_name: Any,
    name: Any,
    args: list[Any],
    kwargs: dict[str, Any],
    inject: OdooFault | None,
) -> Any:
    """`execute_cr` and `call_kw`: model, method, then the method's own arguments."""
    if odoo.version == 17:
        odoo.refuse_private(str(model_name), str(name))  # 17 checks before the model
    model = odoo.models.get(model_name)
    if model is None:
        raise user_error(f"Object {model_name} doesn't exist")
    odoo.public_method(model, str(name))
    context = kwargs.pop("context", None)
    if name in model.methods.API_MODEL:
        records = odoo.records(model, [], context)
    else:
        ids, args = args[0], args[1:]  # an IndexError here is Odoo's too
        records = odoo.records(model, ids, context)
    method = getattr(records, name)
    bound = bind(method, *args, **kwargs)
    if inject is not None:
        raise inject
    return method(*bound.args, **bound.kwargs)
