"""PORTAL_DATABASE_URL parsed once: what the settings, the engine and the lock read of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from orderamt.database_url import DatabaseUrl

PASSWORD = "s3cr3t-db-pass"


@pytest.mark.parametrize("text", ["portal.db", f"portal:{PASSWORD}@db/portal", "://nothing"])
def test_no_sqlalchemy_url_is_refused_without_its_text(text: str) -> None:
    """A text SQLAlchemy cannot read is a ValueError that does not repeat it (a password)."""
    with pytest.raises(ValueError, match=r"^not a database URL$"):
        DatabaseUrl.parse(text)


def test_the_password_stays_out_of_sight() -> None:
    """The masked form and the repr hide the password; the text keeps it for the driver."""
    url = DatabaseUrl.parse(f"mysql+pymysql://portal:{PASSWORD}@db:3306/portal")
    assert url.masked == "mysql+pymysql://portal:***@db:3306/portal"
    assert PASSWORD not in repr(url)
    assert PASSWORD in url.text


@pytest.mark.parametrize(
    ("text", "backend", "driver"),
    [
        ("sqlite:///portal.db", "sqlite", ""),
        ("postgresql+psycopg://u@db/portal", "postgresql", "psycopg"),
        ("mysql+pymysql://u@db/portal", "mysql", "pymysql"),
    ],
)
def test_kind_and_driver(text: str, backend: str, driver: str) -> None:
    """The database kind and the driver after `+`, empty for the kind's default."""
    url = DatabaseUrl.parse(text)
    assert (url.backend, url.driver) == (backend, driver)


@pytest.mark.parametrize(
    ("text", "path", "file", "opened"),
    [
        ("sqlite:///portal.db?timeout=5", "portal.db", "portal.db", "portal.db"),
        ("sqlite:////var/portal.db", "/var/portal.db", "/var/portal.db", "/var/portal.db"),
        # SQLAlchemy 2.1 decodes the escape ('my db.db'), 2.0 (Python 3.10's) does not.
        (
            "sqlite:///my%20db.db",
            "my%20db.db",
            "my%20db.db",
            make_url("sqlite:///my%20db.db").database,
        ),
        ("sqlite:///file:portal?uri=true", "file:portal", None, None),
        ("sqlite+pysqlite:///portal.db", None, None, "portal.db"),
        ("sqlite:///:memory:", None, None, None),
        ("sqlite://", None, None, None),
        ("postgresql://u@db/portal", None, None, None),
    ],
)
def test_the_sqlite_file(
    text: str, path: str | None, file: Path | None, opened: str | None
) -> None:
    """The path as written of a plain sqlite:/// URL (the .env resolution), its file (the
    lock), and the file any SQLite driver opens (the engine's check that it exists)."""
    url = DatabaseUrl.parse(text)
    absolute = Path(file).absolute() if file else None
    assert (url.sqlite_path, url.sqlite_file, url.sqlite_database) == (path, absolute, opened)


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("sqlite:///portal.db?timeout=5", "sqlite:////etc/orderamt/portal.db?timeout=5"),
        ("sqlite:///../portal.db", "sqlite:////etc/portal.db"),
        ("sqlite:////var/portal.db", "sqlite:////var/portal.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("mysql+pymysql://u@db/portal", "mysql+pymysql://u@db/portal"),
    ],
)
def test_a_relative_sqlite_path_is_resolved_beside_a_folder(text: str, resolved: str) -> None:
    """Only a relative SQLite path changes; its query stays as written."""
    assert DatabaseUrl.parse(text).beside(Path("/etc/orderamt")).text == resolved
