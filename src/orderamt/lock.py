"""One run at a time per portal table: a lock file, or a lock in the portal database.

Both are held for the whole run and die with the process (the operating system drops a
file lock, the database server a session lock), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from orderamt.config import Settings
from orderamt.errors import ConfigError, LockedError, PortalError
from orderamt.portal.engine import first_line, where
from orderamt.urls import mask_url

if sys.platform != "win32":
    import fcntl


def default_lock_file(log_file: Path, database_url: str, table: str) -> Path:
    """Beside the log, one per portal table: two portals on one host do not block each other.

    The name hashes the URL without its password: a file name anyone can list must not help
    guess it, and a new password must not change the lock.
    """
    digest = hashlib.sha256(f"{mask_url(database_url)}|{table}".encode()).hexdigest()[:12]
    return log_file.parent / f"orderamt-{digest}.lock"


def lock_kind(settings: Settings) -> str:
    """The lock a run takes: the setting, or with `auto` the one that lives with the data."""
    if settings.lock != "auto":
        return settings.lock
    return "file" if settings.portal_url.sqlite_file is not None else "database"


def lock_file_path(settings: Settings) -> Path:
    """ORDERAMT_LOCK_FILE; else beside the SQLite file (whoever runs orderamt, from wherever,
    takes the same one), else beside the log."""
    if settings.lock_file is not None:
        return settings.lock_file
    database = settings.portal_url.sqlite_file
    if database is not None:
        return database.with_name(f"{database.name}.orderamt-{settings.schema.table}.lock")
    return default_lock_file(
        settings.log_file, settings.database_url.reveal(), settings.schema.table
    )


def describe_lock(settings: Settings) -> str:
    """Where the lock is, in words, for `orderamt check`."""
    if lock_kind(settings) == "database":
        return f"advisory lock in {settings.database_url_for_display}"
    return str(lock_file_path(settings))


def run_lock(settings: Settings, engine: Engine | None) -> AbstractContextManager[None]:
    """The lock the settings ask for; raises LockedError at once when another run holds it."""
    if lock_kind(settings) == "database":
        if engine is None:
            raise ConfigError("ORDERAMT_LOCK=database needs a portal database to hold the lock")
        return database_lock(engine, settings.schema.table)
    return file_lock(lock_file_path(settings))


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an OS lock on `path` (flock, or LockFileEx on Windows) or raise LockedError at once.

    The operating system drops the lock when the process ends, even by `kill -9`, so a crash
    never leaves a stale lock behind; the file itself stays and is harmless.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"ORDERAMT_LOCK_FILE: cannot create {path.parent}: {exc.strerror or exc}"
        ) from None
    if sys.platform == "win32":
        with _windows_lock(path):
            yield
        return
    descriptor = _open_lock_file(path)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _held(path) from None
        except OSError as exc:
            raise _cannot_lock(path, exc) from None
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor drops the flock


def _open_lock_file(path: Path) -> int:
    """A descriptor on the lock file, made where it is missing.

    A lock file is shared by every user who runs orderamt on the portal: the service user,
    an operator, root with `sudo orderamt sync`. flock needs no write access, so a lock file
    another user made (root's, 0644) is opened read-only where it cannot be opened for
    writing. And one root makes is given the owner of its folder (the service user's
    StateDirectory, or the SQLite portal's folder), as SQLite does with the journal files
    root makes beside a database: a root run with umask 077 would otherwise leave a file
    the service user cannot even read.
    """
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _cannot_lock(path, exc) from None
    else:
        if os.geteuid() == 0:
            with suppress(OSError):
                folder = path.parent.stat()
                os.fchown(descriptor, folder.st_uid, folder.st_gid)
        return descriptor
    for flags in (os.O_RDWR, os.O_RDONLY):
        try:
            return os.open(path, flags)
        except PermissionError as exc:
            refused = exc
        except OSError as exc:
            raise _cannot_lock(path, exc) from None
    raise _cannot_lock(
        path, refused, "the file belongs to another user: make it readable to this one"
    ) from None


def _held(path: Path) -> LockedError:
    return LockedError(
        f"another orderamt run is still going (lock {path} is held); this one did nothing"
    )


def _cannot_lock(path: Path, exc: OSError, hint: str = "") -> ConfigError:
    reason = exc.strerror or str(exc)
    return ConfigError(
        f"ORDERAMT_LOCK_FILE: cannot lock {path}: {reason}" + (f" ({hint})" if hint else "")
    )


@contextmanager
def _windows_lock(path: Path) -> Iterator[None]:
    """LockFileEx through filelock, which knows Windows' calls."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise _held(path) from None
    except OSError as exc:
        raise _cannot_lock(path, exc) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def database_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold a lock in the portal database for the run, or raise LockedError at once.

    For installs that run the job on several hosts: PostgreSQL's session advisory lock or
    MySQL/MariaDB's GET_LOCK, both dropped by the server when the connection ends, however
    the process died.
    """
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "mysql", "mariadb"):
        raise ConfigError(
            f"ORDERAMT_LOCK=database needs PostgreSQL, MySQL or MariaDB, not {dialect}: "
            "use ORDERAMT_LOCK=file"
        )
    # GET_LOCK names are server-wide: the database's name keeps two portals on one server
    # apart, and the connection's options (a PostgreSQL search_path) two schemas of one.
    options = engine.url.query.get("options", "")
    scope = f"{engine.url.host}|{engine.url.port}|{engine.url.database}|{options}|{name}"
    key = f"orderamt:{hashlib.sha256(scope.encode()).hexdigest()[:24]}"
    shown = where(engine)
    if dialect == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        take = text("SELECT pg_try_advisory_lock(:key)").bindparams(key=number)
        give = text("SELECT pg_advisory_unlock(:key)").bindparams(key=number)
    else:
        take = text("SELECT GET_LOCK(:key, 0)").bindparams(key=key[:64])
        give = text("SELECT RELEASE_LOCK(:key)").bindparams(key=key[:64])
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise PortalError(f"cannot reach the portal database {shown}: {first_line(exc)}") from exc
    try:
        try:
            held = bool(conn.execute(take).scalar())
            conn.commit()  # the lock belongs to the session; no transaction stays open
        except SQLAlchemyError as exc:
            raise PortalError(
                f"portal database {shown}: taking the run lock failed: {first_line(exc)}"
            ) from exc
        if not held:
            raise LockedError(
                f"another orderamt run is still going (database lock '{key}' on {shown} is "
                "held); this one did nothing"
            )
        try:
            yield
        finally:
            with suppress(SQLAlchemyError):
                conn.execute(give)
                conn.commit()
    finally:
        conn.close()
