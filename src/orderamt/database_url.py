"""PORTAL_DATABASE_URL, parsed once: what the settings, the engine and the lock read of it.

Not in `urls`: the Odoo adapters import that and may not reach SQLAlchemy, whose parser
this is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from orderamt.urls import mask_url

SQLITE_PREFIX = "sqlite:///"
IN_MEMORY = ("", ":memory:")


@dataclass(frozen=True)
class DatabaseUrl:
    """The URL as written (it may hold a password) and as SQLAlchemy reads it."""

    text: str = field(repr=False)
    url: URL = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        """Raises ValueError, without the text (it may hold a password), on no SQLAlchemy URL."""
        try:
            return cls(text, make_url(text))
        except (ArgumentError, ValueError) as exc:
            raise ValueError("not a database URL") from exc

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.masked!r})"

    @property
    def masked(self) -> str:
        """For messages and logs: the password masked."""
        return mask_url(self.text)

    @property
    def backend(self) -> str:
        """The database kind: sqlite, postgresql, mysql, ..."""
        return self.url.drivername.partition("+")[0]

    @property
    def driver(self) -> str:
        """The driver named after `+`, or "" for the kind's default."""
        return self.url.drivername.partition("+")[2]

    @property
    def sqlite_database(self) -> str | None:
        """The file a SQLite URL of any driver opens (as SQLAlchemy reads it, escapes
        decoded); None for another database, in memory or a `file:` URI."""
        if self.backend != "sqlite":
            return None
        database = self.url.database or ""
        return None if _names_no_file(database) else database

    @property
    def sqlite_path(self) -> str | None:
        """The path of a plain `sqlite:///PATH` URL as written; None for any other URL or an
        in-memory database."""
        if not self.text.startswith(SQLITE_PREFIX):
            return None
        path = self.text[len(SQLITE_PREFIX) :].partition("?")[0]
        return None if path in IN_MEMORY else path

    @property
    def sqlite_file(self) -> Path | None:
        """The file of a plain `sqlite:///PATH` URL, absolute; None also for a `file:` URI."""
        path = self.sqlite_path
        if path is None or _names_no_file(path):
            return None
        return Path(path).absolute()

    def beside(self, folder: Path) -> DatabaseUrl:
        """This URL with a relative `sqlite_path` resolved against `folder`."""
        path = self.sqlite_path
        if path is None or Path(path).is_absolute():
            return self
        rest = self.text[len(SQLITE_PREFIX) + len(path) :]
        return DatabaseUrl.parse(f"{SQLITE_PREFIX}{(folder / path).resolve()}{rest}")


def _names_no_file(database: str) -> bool:
    return database in IN_MEMORY or database.startswith("file:")
