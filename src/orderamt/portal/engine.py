"""The portal's engine: built from the URL with a hint for a missing driver, and the one
place a driver's error becomes a PortalError."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from orderamt.database_url import DatabaseUrl
from orderamt.errors import ConfigError, PortalError
from orderamt.portal.tls import make_tls_context_lazily
from orderamt.urls import mask_url

CONNECT_TIMEOUT_SECONDS = 10

DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql"}
KNOWN_SPELLINGS = {"postgres": "postgresql+psycopg", "pgsql": "postgresql+psycopg"}
"""Spellings other tools accept (Heroku's postgres://, Laravel's pgsql) and SQLAlchemy not."""


def create_portal_engine(url: str) -> Engine:
    """An engine for the portal, or a one-line error naming what is wrong with the URL."""
    try:
        parsed = DatabaseUrl.parse(url)
    except ValueError as exc:
        raise ConfigError("PORTAL_DATABASE_URL is not a database URL") from exc
    database = parsed.sqlite_database
    if database is not None and not Path(database).is_file():
        raise PortalError(f"the portal database file {database} does not exist")
    connect_args: dict[str, Any] = {}
    server = parsed.backend in ("postgresql", "mysql", "mariadb")
    if server:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        # pool_pre_ping: a kept connection is tried (one round trip) each time it is lent
        # again, and made anew if the server ended it (a restart, a failover, wait_timeout),
        # so that a listener's next batch does not fail on it. A new one is not tried.
        engine = create_engine(parsed.url, connect_args=connect_args, pool_pre_ping=server)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        backend, driver = parsed.backend, parsed.driver
        if isinstance(exc, NoSuchModuleError) and not driver:
            known = KNOWN_SPELLINGS.get(backend)
            hint = f" (did you mean {known}://...?)" if known else ""
            raise ConfigError(
                f"PORTAL_DATABASE_URL: '{backend}' is not a database kind SQLAlchemy knows"
                f"{hint}; use sqlite:///, postgresql+psycopg:// or mysql+pymysql://"
            ) from None
        driver = driver or backend
        extra = DRIVER_EXTRAS.get(driver)
        hint = f"; install it with: {install_hint(extra)}" if extra else ""
        raise ConfigError(
            f"PORTAL_DATABASE_URL needs the database driver '{driver}', which is not "
            f"installed{hint}"
        ) from exc
    if engine.dialect.driver == "pymysql":
        make_tls_context_lazily(engine)
    return engine


DRIVER_PACKAGES = {"postgres": "psycopg[binary]", "mysql": "PyMySQL"}


def install_hint(extra: str) -> str:
    """The command that adds a driver the way this orderamt was installed."""
    if f"{os.sep}pipx{os.sep}venvs{os.sep}" in sys.prefix:
        return f"pipx inject orderamt '{DRIVER_PACKAGES[extra]}'"
    return f"{Path(sys.executable).parent / 'pip'} install 'orderamt[{extra}]'"


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (the rest is SQL and a link)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def where(engine: Engine) -> str:
    """The engine's URL for messages, its password masked."""
    return mask_url(engine.url.render_as_string(hide_password=False))


class Database:
    """An engine and the one way its errors reach the user: `with db.doing("reading orders")`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.where = where(engine)

    @contextmanager
    def doing(self, what: str) -> Iterator[None]:
        """Turn a driver error inside into 'portal database URL: WHAT failed: REASON'."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise PortalError(
                f"portal database {self.where}: {what} failed: {first_line(exc)}"
            ) from exc

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """Like `doing`, for the first contact: 'cannot reach the portal database URL: ...'."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise PortalError(
                f"cannot reach the portal database {self.where}: {first_line(exc)}"
            ) from exc

    def ping(self) -> None:
        """Connect once: is the database there at all?"""
        with self.reaching(), self.engine.connect() as conn:
            conn.execute(select(1))
