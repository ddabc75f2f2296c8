"""The shipped crontab line and units' command lines, run as a real system user: `nobody`,
whose HOME is /nonexistent, in a bare environment, with the files of a real install.

What systemd adds around them (the sandbox) is checked by systemd-analyze in
test_systemd.py; here is what the tool does inside: its log, its lock and its metrics."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from orderamt.app.init import portal_name
from orderamt.testing import OdooDouble
from tests.app.test_scheduling import unit_settings
from tests.conftest import API_KEY, PACKAGE_ROOT, PortalDb
from tests.listen.test_listener_process import SECRET, Listener

ROOT = Path(__file__).parent.parent.parent
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)
SETPRIV = shutil.which("setpriv")
pytestmark = [
    pytest.mark.skipif(
        os.name != "posix" or os.geteuid() != 0,
        reason="runs commands as the user nobody, which takes root (setpriv)",
    ),
    pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is not installed here"),
]


def nobody() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


def as_nobody(command: list[str], cwd: Path) -> list[str]:
    """`command` as nobody with its own groups, under the units' UMask=0027."""
    user = nobody()
    return [str(SETPRIV), f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
            "sh", "-c", 'umask 0027 && cd "$0" && exec "$@"', str(cwd), *command]  # fmt: skip


def run_as_nobody(
    command: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        as_nobody(command, cwd), env=env, capture_output=True, text=True, check=False
    )


def bare(**variables: str) -> dict[str, str]:
    """All a system user's job gets (env -i): HOME=/nonexistent, a PATH, and `variables`;
    PYTHONPATH only so that a checkout's sources are the ones run."""
    return {"HOME": nobody().pw_dir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            "PYTHONPATH": str(PACKAGE_ROOT), **variables}  # fmt: skip


def owned_by_nobody(*folders: Path) -> None:
    user = nobody()
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)


class Host:
    """A host's folders for one test, in a place nobody can reach (pytest's own tmp is
    root's alone): an install, /var/log/orderamt and /var/lib/orderamt, owned by the service
    user as LogsDirectory= and StateDirectory= make them, and SQLite portals."""

    def __init__(self, top: Path, odoo: OdooDouble, protocol: str, program: Path) -> None:
        self.top = top
        self.program = program
        self.odoo = odoo
        self.protocol = protocol
        self.logs = top / "var-log-orderamt"
        self.state = top / "var-lib-orderamt"
        owned_by_nobody(self.logs, self.state)
        odoo.add_order(id=1, name="S00001", amount_total=5.0)

    def portal(self, name: str) -> tuple[Path, PortalDb]:
        """An install folder with its .env (0600, the service user's) and a SQLite portal in
        a folder the service user may write (its ReadWritePaths=), with one order."""
        folder = self.top / name
        data = folder / "database"
        owned_by_nobody(folder, data)
        database = data / "portal.db"
        portal = PortalDb("sqlite", f"sqlite:///{database}", create_engine(f"sqlite:///{database}"),
                          path=database)  # fmt: skip
        portal.insert({"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
                       "created_at": RECENT, "updated_at": RECENT})  # fmt: skip
        portal.engine.dispose()
        os.chown(database, nobody().pw_uid, nobody().pw_gid)
        env = folder / ".env"
        env.write_text(
            f"ODOO_URL={self.odoo.url}\nODOO_DB=odoo\nODOO_USERNAME=admin\n"
            f"ODOO_PASSWORD={API_KEY if self.protocol == 'json2' else 'admin'}\n"
            f"ODOO_RETRIES=0\nPORTAL_DATABASE_URL={portal.url}\n"
            f"ORDERAMT_WEBHOOK_SECRET={SECRET}\nORDERAMT_LISTEN=127.0.0.1:0\n"
            "ORDERAMT_WEBHOOK_DELAY=0.2\n"
        )
        env.chmod(0o600)
        os.chown(env, nobody().pw_uid, nobody().pw_gid)
        return folder, portal

    def localize(self, value: str, install: Path) -> str:
        """A path of the shipped files, on this test's host."""
        for real, here in (("/opt/orderamt/.venv/bin/orderamt", str(self.program)),
                           ("/opt/orderamt", str(install)), ("/var/log/orderamt", str(self.logs)),
                           ("/var/lib/orderamt", str(self.state))):  # fmt: skip
            value = value.replace(real, here)
        return value


def runs_for_nobody(program: str | Path, *args: str) -> bool:
    run = subprocess.run(as_nobody([str(program), *args], Path("/")), env=bare(),
                         capture_output=True, text=True, check=False)  # fmt: skip
    return run.returncode == 0


@pytest.fixture(scope="session")
def program() -> Iterator[Path]:
    """An `orderamt` console script the user nobody may run: this install's; or, where this
    Python is out of nobody's reach (a pyenv under /root), one in a venv of the system's
    Python of the same version, which imports this very install (its sources and packages,
    named in a .pth file)."""
    mine = Path(sys.executable).parent / "orderamt"
    if mine.is_file() and runs_for_nobody(mine, "--version"):
        yield mine
        return
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(f"/usr/bin/python{version}")
    if not (base.is_file() and runs_for_nobody(base, "-c", "")):
        pytest.skip(f"the user nobody can run neither {sys.executable} nor a Python {version} "
                    "in /usr/bin: run these from a venv of a Python nobody may run")  # fmt: skip
    top = Path(tempfile.mkdtemp(prefix="orderamt-nobody-venv-"))
    try:
        top.chmod(0o755)
        venv = top / "venv"
        subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
        (
            venv / "lib" / f"python{version}" / "site-packages" / "orderamt-under-test.pth"
        ).write_text("".join(f"{folder}\n" for folder in [PACKAGE_ROOT, *site.getsitepackages()]))
        script = venv / "bin" / "orderamt"
        script.write_text(f"#!{venv / 'bin' / 'python'}\nfrom orderamt.cli import main\nmain()\n")
        script.chmod(0o755)
        if not runs_for_nobody(script, "--version"):
            pytest.skip(f"the user nobody cannot run orderamt from {venv}")
        yield script
    finally:
        shutil.rmtree(top)


@pytest.fixture
def host(odoo: OdooDouble, protocol: str, program: Path) -> Iterator[Host]:
    top = Path(tempfile.mkdtemp(prefix="orderamt-system-user-"))
    top.chmod(0o755)
    try:
        yield Host(top, odoo, protocol, program)
    finally:
        shutil.rmtree(top)


def service_command(
    host: Host, path: Path, install: Path
) -> tuple[list[str], dict[str, str], Path]:
    """What systemd would run for the unit at `path`: its ExecStart= in its WorkingDirectory=
    with its Environment=, on this test's host."""
    settings, environment = unit_settings(path)
    command = shlex.split(host.localize(settings["ExecStart"], install))
    env = bare(**{k: host.localize(v, install) for k, v in environment.items()})
    return command, env, Path(host.localize(settings["WorkingDirectory"], install))


def no_access_for_others(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o007 == 0


def test_the_crontab_line_runs_for_nobody(host: Host) -> None:
    """crontab.example's job, with its variables, run as nobody (HOME=/nonexistent): it
    syncs and logs into /var/log/orderamt; without the crontab's ORDERAMT_LOG_FILE line the
    same job fails on the default log under HOME (exit 2), as it did every hour before."""
    install, portal = host.portal("opt-orderamt")
    variables: dict[str, str] = {}
    jobs = []
    for line in (ROOT / "crontab.example").read_text().splitlines():
        if line and not line.startswith("#"):
            if "=" in line.split()[0]:
                name, _, value = line.partition("=")
                variables[name] = host.localize(value, install)
            else:
                jobs.append(line.split(None, 5)[5])
    assert list(variables) == ["MAILTO", "ORDERAMT_LOG_FILE"]
    command = ["sh", "-c", host.localize(jobs[0], install)]
    without = run_as_nobody(command, bare(SHELL="/bin/sh"), install)
    assert without.returncode == 2
    assert without.stderr == (
        "orderamt: ORDERAMT_LOG_FILE: cannot write the log file /nonexistent/.local/state/"
        "orderamt/orderamt.log: Permission denied (HOME /nonexistent does not exist, as for a "
        "system user: set ORDERAMT_LOG_FILE, e.g. /var/log/orderamt/orderamt.log)\n"
    )
    run = run_as_nobody(command, bare(SHELL="/bin/sh", **variables), install)
    assert (run.returncode, run.stderr) == (0, "")
    assert "  ✅ A: $1.00 → $5.00" in run.stdout.splitlines()  # news: cron mails it
    assert portal.amounts() == {"A": Decimal("5.00")}
    next_hour = run_as_nobody(command, bare(SHELL="/bin/sh", **variables), install)
    assert (next_hour.returncode, next_hour.stdout, next_hour.stderr) == (0, "", "")
    log = host.logs / "orderamt.log"
    assert "Synced order amount from Odoo" in log.read_text()
    assert log.stat().st_uid == nobody().pw_uid and no_access_for_others(log)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_the_service_takes_the_lock_after_root_ran_sync(host: Host, umask: int) -> None:
    """`sudo orderamt sync` once, as root with its umask, leaves the lock file beside the
    SQLite portal; the service's command line, as nobody, still takes it and syncs."""
    install, portal = host.portal("opt-orderamt")
    root_env = {**bare(ORDERAMT_LOG_FILE=str(host.top / "root.log")), "HOME": "/root"}
    by_root = subprocess.run(
        ["sh", "-c", f"umask {umask:03o} && exec {host.program} sync --quiet"],
        cwd=install, env=root_env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert by_root.returncode == 0, by_root.stderr
    lock = portal.path.with_name("portal.db.orderamt-orders.lock") if portal.path else None
    assert lock is not None and lock.is_file()
    host.odoo.change(1, amount_total=7.0)
    command, env, cwd = service_command(host, ROOT / "contrib/systemd/orderamt.service", install)
    run = run_as_nobody(command, env, cwd)
    assert run.returncode == 0, run.stderr
    assert portal.amounts() == {"A": Decimal("7.00")}
    metrics = host.state / "orderamt.prom"
    assert "orderamt_last_run_exit_code 0" in metrics.read_text()
    assert no_access_for_others(metrics) and no_access_for_others(host.logs / "orderamt.log")


def test_a_root_owned_lock_file_is_taken_read_only(host: Host) -> None:
    """A lock file root made 0644 before this version (nobody may read it, not write it):
    the service's command line as nobody takes it."""
    install, portal = host.portal("opt-orderamt")
    assert portal.path is not None
    lock = portal.path.with_name("portal.db.orderamt-orders.lock")
    lock.touch(mode=0o644)
    lock.chmod(0o644)
    command, env, cwd = service_command(host, ROOT / "contrib/systemd/orderamt.service", install)
    run = run_as_nobody(command, env, cwd)
    assert run.returncode == 0, run.stderr
    assert portal.amounts() == {"A": Decimal("5.00")}
    assert lock.stat().st_uid == 0


def test_timer_and_listener_share_the_portal_s_lock_and_portals_do_not(host: Host) -> None:
    """While the listener (its unit's command line, as nobody) holds the run lock in its
    first poll, the timer's service of the same portal waits its turn (exit 75, the lock
    beside the SQLite file), and the service of a second portal runs (exit 0)."""
    install, portal = host.portal("portal-a")
    other, other_portal = host.portal("portal-b")
    reached, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def hold_the_first_read(method: str) -> None:
        calls.append(method)
        if method == "search_read" and calls.count("search_read") == 1:
            reached.set()
            release.wait(30)

    host.odoo.on_call = hold_the_first_read
    command, env, cwd = service_command(
        host, ROOT / "contrib/systemd/orderamt-listen.service", install
    )
    process = subprocess.Popen(as_nobody(command, cwd), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        listener = Listener(process)
        assert reached.wait(30)
        timer = service_command(host, ROOT / "contrib/systemd/orderamt.service", install)
        waited = run_as_nobody(*timer)
        assert waited.returncode == 75, waited.stderr
        assert "portal-a/database/portal.db.orderamt-orders.lock" in waited.stderr
        second = service_command(host, ROOT / "contrib/systemd/orderamt.service", other)
        ran = run_as_nobody(*second)
        assert ran.returncode == 0, ran.stderr
        assert other_portal.amounts() == {"A": Decimal("5.00")}
        release.set()
        _, err = listener.stop()
        assert process.returncode == 0, err
    finally:
        release.set()
        host.odoo.on_call = None
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert portal.amounts() == {"A": Decimal("5.00")}


def test_the_units_init_writes_run_for_nobody_each_portal_its_own_log(host: Host) -> None:
    """`orderamt init FOLDER --systemd`, run with this install's orderamt, for two portals;
    each written service's command line, as nobody, syncs its portal into a log and a
    metrics file of its own."""
    for name in ("srv-a", "srv-b"):
        install, portal = host.portal(name)
        (install / ".env").rename(install / "portal.env")
        made = subprocess.run([str(host.program), "init", str(install), "--systemd"],
                              env=bare(), capture_output=True, text=True, check=False)  # fmt: skip
        assert made.returncode == 0, made.stderr
        (install / "portal.env").replace(install / ".env")
        unit_name = portal_name(install)
        path = install / f"orderamt-{unit_name}.service"
        settings, _ = unit_settings(path)
        assert settings["ExecStart"] == f"{host.program} sync --quiet"
        owned_by_nobody(host.logs / unit_name, host.state / unit_name)
        run = run_as_nobody(*service_command(host, path, install))
        assert run.returncode == 0, run.stderr
        assert portal.amounts() == {"A": Decimal("5.00")}
        log = host.logs / unit_name / "orderamt.log"
        assert log.read_text().count("Synced order amount from Odoo") == 1
        assert (host.state / unit_name / "orderamt.prom").is_file()
