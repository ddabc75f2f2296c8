"""One run at a time: the lock file (held against real other processes) and the database lock."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from orderamt.errors import ConfigError, ExitCode, LockedError
from orderamt.lock import database_lock, default_lock_file, file_lock
from orderamt.portal import create_portal_engine
from tests.conftest import PortalDb, child_environment

HOLD = """
import sys
from pathlib import Path
from orderamt.lock import file_lock

with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""
"""Takes the lock, says so, and keeps it until its stdin is closed."""

TRY = """
import sys
from pathlib import Path
from orderamt.errors import LockedError
from orderamt.lock import file_lock

try:
    with file_lock(Path(sys.argv[1])):
        print("took")
except LockedError as exc:
    print(f"locked: {exc}")
"""
"""Tries the lock once and says what happened."""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process holding the lock on a file in tmp_path, until it is told to let go."""
    path = tmp_path / "locks" / "orderamt.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_environment(),
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "held\n"
        yield proc, path
    finally:
        finish(proc)


def finish(proc: subprocess.Popen[str]) -> None:
    """Make sure the process started by the test is gone, and its pipes closed."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=60)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def release(proc: subprocess.Popen[str]) -> None:
    """Tell the holder to leave its `with` block, and wait for it to exit."""
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def try_in_another_process(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TRY, str(path)],
        capture_output=True,
        text=True,
        env=child_environment(),
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_second_holder_is_refused_at_once_naming_the_file(
    holder: tuple[subprocess.Popen[str], Path],
) -> None:
    """While another process holds the lock, taking it fails at once, naming the file, exit 75."""
    _, path = holder
    ran = False
    with pytest.raises(LockedError) as caught, file_lock(path):
        ran = True
    assert not ran
    assert str(caught.value) == (
        f"another orderamt run is still going (lock {path} is held); this one did nothing"
    )
    assert caught.value.exit_code is ExitCode.LOCKED


def test_lock_is_free_once_the_holder_lets_go(
    holder: tuple[subprocess.Popen[str], Path],
) -> None:
    """When the other process leaves its lock, this one gets it."""
    proc, path = holder
    release(proc)
    ran = False
    with file_lock(path):
        ran = True
    assert ran


def test_lock_dies_with_a_killed_holder(holder: tuple[subprocess.Popen[str], Path]) -> None:
    """A holder killed with SIGKILL leaves no stale lock: the next run takes it, the file stays."""
    proc, path = holder
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert path.exists()
    with file_lock(path):
        assert try_in_another_process(path).startswith("locked: ")


def test_lock_held_here_refuses_another_process(tmp_path: Path) -> None:
    """While this process is inside the lock, another process is refused with the message."""
    path = tmp_path / "orderamt.lock"
    with file_lock(path):
        answer = try_in_another_process(path)
    assert answer == (
        f"locked: another orderamt run is still going (lock {path} is held); this one did nothing"
    )


def test_lock_is_free_after_the_context_exits(tmp_path: Path) -> None:
    """Once the `with` block is left, another process takes the lock."""
    path = tmp_path / "orderamt.lock"
    with file_lock(path):
        pass
    assert try_in_another_process(path) == "took"


def test_lock_is_free_after_the_context_exits_by_an_error(tmp_path: Path) -> None:
    """A run that fails inside the lock still gives it back."""
    path = tmp_path / "orderamt.lock"
    with pytest.raises(RuntimeError), file_lock(path):
        raise RuntimeError("the run failed")
    assert try_in_another_process(path) == "took"


def test_missing_folders_are_created(tmp_path: Path) -> None:
    """The lock's folder is made when it does not exist yet."""
    path = tmp_path / "a" / "b" / "orderamt.lock"
    with file_lock(path):
        assert path.parent.is_dir()


def test_folder_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    """A lock file under a path that is a file is refused naming ORDERAMT_LOCK_FILE, exit 2."""
    (tmp_path / "taken").write_text("a file, not a folder")
    path = tmp_path / "taken" / "sub" / "orderamt.lock"
    with pytest.raises(ConfigError) as caught, file_lock(path):
        pass
    assert str(caught.value) == (
        f"ORDERAMT_LOCK_FILE: cannot create {path.parent}: Not a directory"
    )
    assert caught.value.exit_code is ExitCode.USAGE


def test_lock_file_that_is_a_folder_is_a_config_error(tmp_path: Path) -> None:
    """ORDERAMT_LOCK_FILE naming a folder is refused with the reason, not a traceback."""
    path = tmp_path / "a-folder"
    path.mkdir()
    with pytest.raises(ConfigError) as caught, file_lock(path):
        pass
    assert str(caught.value) == f"ORDERAMT_LOCK_FILE: cannot lock {path}: Is a directory"


LOG = Path("/var/log/orderamt/orderamt.log")
URL = "mysql+pymysql://portal:first-password@db.example.com:3306/portal"


def test_default_lock_file_is_beside_the_log() -> None:
    """The default lock file is orderamt-<hash>.lock in the log file's folder."""
    path = default_lock_file(LOG, URL, "orders")
    assert path.parent == LOG.parent
    assert re.fullmatch(r"orderamt-[0-9a-f]{12}\.lock", path.name)


def test_default_lock_file_is_stable() -> None:
    """The same portal and table give the same lock file, run after run."""
    assert default_lock_file(LOG, URL, "orders") == default_lock_file(LOG, URL, "orders")


def test_default_lock_file_differs_per_table() -> None:
    """Two tables of one database get two locks, so their runs do not block each other."""
    assert default_lock_file(LOG, URL, "orders") != default_lock_file(LOG, URL, "b2b_orders")


@pytest.mark.parametrize(
    "other",
    [
        "mysql+pymysql://portal:first-password@db.example.com:3306/shop",
        "mysql+pymysql://portal:first-password@db2.example.com:3306/portal",
        "mysql+pymysql://portal:first-password@db.example.com:3307/portal",
        "sqlite:///portal.db",
    ],
)
def test_default_lock_file_differs_per_database(other: str) -> None:
    """Another database, host or port gets its own lock file."""
    assert default_lock_file(LOG, URL, "orders") != default_lock_file(LOG, other, "orders")


def test_default_lock_file_ignores_the_password() -> None:
    """A new database password keeps the same lock, so a run under the old one still blocks."""
    new = URL.replace("first-password", "second-password")
    assert default_lock_file(LOG, URL, "orders") == default_lock_file(LOG, new, "orders")


def test_default_lock_file_name_does_not_contain_the_password() -> None:
    """The lock's name, which anyone can list, shows no part of the password."""
    path = default_lock_file(LOG, URL, "orders")
    assert "first-password" not in str(path)
    assert "password" not in str(path)


def test_database_lock_is_refused_on_sqlite(tmp_path: Path) -> None:
    """SQLite has no server to hold a lock: the message says to use ORDERAMT_LOCK=file, exit 2."""
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    try:
        with pytest.raises(ConfigError) as caught, database_lock(engine, "orders"):
            pass
    finally:
        engine.dispose()
    assert str(caught.value) == (
        "ORDERAMT_LOCK=database needs PostgreSQL, MySQL or MariaDB, not sqlite: "
        "use ORDERAMT_LOCK=file"
    )
    assert caught.value.exit_code is ExitCode.USAGE
    assert not (tmp_path / "portal.db").exists()


SERVERS = pytest.mark.parametrize("portal", ["postgresql", "mariadb"], indirect=True)
"""The portal fixture on the engines that can hold a database lock (SQLite cannot)."""


@SERVERS
def test_database_lock_refuses_a_second_connection(portal: PortalDb) -> None:
    """While one connection holds the run lock, another engine's attempt fails at once, exit 75."""
    first = create_portal_engine(portal.url)
    second = create_portal_engine(portal.url)
    try:
        ran = False
        with (
            database_lock(first, "orders"),
            pytest.raises(LockedError) as caught,
            database_lock(second, "orders"),
        ):
            ran = True
        assert not ran
        message = str(caught.value)
        assert message.startswith("another orderamt run is still going (database lock 'orderamt:")
        assert message.endswith("is held); this one did nothing")
        assert f"/{make_url(portal.url).database}" in message
        assert caught.value.exit_code is ExitCode.LOCKED
    finally:
        first.dispose()
        second.dispose()


@SERVERS
def test_database_lock_is_free_again_after_the_holder_exits(portal: PortalDb) -> None:
    """Once the first run leaves its lock, a second connection takes it."""
    first = create_portal_engine(portal.url)
    second = create_portal_engine(portal.url)
    try:
        with database_lock(first, "orders"):
            pass
        ran = False
        with database_lock(second, "orders"):
            ran = True
        assert ran
    finally:
        first.dispose()
        second.dispose()


DB_HOLD = """
import sys
from orderamt.lock import database_lock
from orderamt.portal import create_portal_engine

with database_lock(create_portal_engine(sys.argv[1]), "orders"):
    print("held", flush=True)
    sys.stdin.read()
"""
"""Takes the database lock, says so, and keeps it until killed."""


@SERVERS
def test_database_lock_dies_with_a_killed_holder(portal: PortalDb) -> None:
    """A run killed with SIGKILL leaves no stale lock: the server drops it with the session."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DB_HOLD, portal.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_environment(),
    )
    engine = create_portal_engine(portal.url)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(LockedError), database_lock(engine, "orders"):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        # The server ends the session when it sees the socket close; give it a moment.
        for _ in range(300):
            try:
                with database_lock(engine, "orders"):
                    break
            except LockedError:
                time.sleep(0.1)
        else:
            pytest.fail("the lock of the killed run was never released")
    finally:
        finish(proc)
        engine.dispose()


@SERVERS
def test_database_lock_is_per_table(portal: PortalDb) -> None:
    """Runs on two tables of one database hold separate locks and do not block each other."""
    first = create_portal_engine(portal.url)
    second = create_portal_engine(portal.url)
    try:
        with database_lock(first, "orders"), database_lock(second, "b2b_orders"):
            pass
    finally:
        first.dispose()
        second.dispose()


@SERVERS
def test_database_lock_is_per_database(portal: PortalDb) -> None:
    """The same table in another database on the same server has its own lock."""
    system_db = "postgres" if portal.kind == "postgresql" else "mysql"
    first = create_portal_engine(portal.url)
    other = create_portal_engine(
        make_url(portal.url).set(database=system_db).render_as_string(hide_password=False)
    )
    try:
        with database_lock(first, "orders"), database_lock(other, "orders"):
            pass
    finally:
        first.dispose()
        other.dispose()
