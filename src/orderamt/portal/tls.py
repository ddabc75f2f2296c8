"""PyMySQL's "preferred" TLS, with its context made when a server first offers TLS.

Given no TLS option, PyMySQL 1.2 connects in MySQL's PREFERRED mode: TLS where the server
offers it, without verifying the certificate, plain where it does not. For that it builds
an `ssl.create_default_context()` in every connection's constructor, loading the system's
CA store (20-35 ms) for a context that verifies nothing, also for a server without TLS:
two connections, up to 70 ms of a 0.5 s poll. Here that context is made once per process,
when a server first offers TLS, with PyMySQL's own settings; what PyMySQL does with it is
unchanged. Where a PyMySQL renames what is overridden here, it is simply slower again.
"""

from __future__ import annotations

import functools
import ssl
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

_made: list[ssl.SSLContext] = []
_making = threading.Lock()


class PreferredContext:
    """Stands for PREFERRED mode's context until something of it is used."""

    def __init__(self, make: Callable[[], ssl.SSLContext]) -> None:
        self._make = make

    def __getattr__(self, name: str) -> Any:
        with _making:
            if not _made:
                _made.append(self._make())
        return getattr(_made[0], name)


@functools.cache
def _connection_class() -> type:
    from pymysql.connections import Connection  # type: ignore[import-untyped]

    class PreferringLazily(Connection):  # type: ignore[misc]
        def _create_ssl_ctx(self, sslp: object) -> Any:
            if isinstance(sslp, dict) and not sslp:  # PREFERRED: no TLS option given
                # PyMySQL's own method, held weakly: the stand-in this connection keeps must
                # not keep the connection (a cycle outlives its last reference until the
                # next collection). The connection is alive whenever TLS is started on it.
                pymysqls = weakref.WeakMethod(super()._create_ssl_ctx)
                return PreferredContext(lambda: pymysqls()({}))  # type: ignore[misc]
            return super()._create_ssl_ctx(sslp)

    return PreferringLazily


def make_tls_context_lazily(engine: Engine) -> None:
    """Have a PyMySQL engine connect through the connection class above."""

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return _connection_class()(*cargs, **cparams)
