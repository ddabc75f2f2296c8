"""One run at a time: a lock held for the whole run that dies with the process."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from orderamt.config import mask_database_url
from orderamt.errors import ConfigError, LockedError


def default_lock_file(log_file: Path, database_url: str, table: str) -> Path:
    """Beside the log, one per portal table: two portals on one host do not block each other.

    The name hashes the URL without its password: a file name anyone can list must not help
    guess it, and a new password must not change the lock.
    """
    digest = hashlib.sha256(f"{mask_database_url(database_url)}|{table}".encode()).hexdigest()[:12]
    return log_file.parent / f"orderamt-{digest}.lock"


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
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"another orderamt run is still going (lock {path} is held); this one did nothing"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"ORDERAMT_LOCK_FILE: cannot lock {path}: {exc.strerror or exc}"
        ) from None
    try:
        yield
    finally:
        lock.release()
