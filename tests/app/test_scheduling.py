"""The scheduling examples work as written: their command lines, run as the scheduler would."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

ROOT = Path(__file__).parent.parent.parent
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def install_dir(tmp_path: Path, orderamt: Orderamt, *, log_file: bool = True) -> Path:
    """A stand-in for /opt/orderamt: the .env the examples expect and .venv/bin/orderamt;
    without `log_file`, the .env names no log file (a real install's: the scheduler does)."""
    home = tmp_path / "opt-orderamt"
    (home / ".venv" / "bin").mkdir(parents=True)
    script = home / ".venv" / "bin" / "orderamt"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m orderamt "$@"\n')
    script.chmod(0o755)
    settings = {
        k: v
        for k, v in orderamt.env.items()
        if k.startswith(("ODOO_", "PORTAL_", "ORDERAMT_"))
        if log_file or k != "ORDERAMT_LOG_FILE"
    }
    (home / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    return home


def bare_environment(tmp_path: Path) -> dict[str, str]:
    """What cron gives a job: little more than HOME and PATH (and nothing from this shell)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh"}


def one_changed_order(portal: PortalDb) -> None:
    portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT}
    )  # fmt: skip


def crontab_entry(path: Path) -> tuple[dict[str, str], str]:
    """A crontab's variables (NAME=value lines, which cron gives every job) and its one job."""
    variables: dict[str, str] = {}
    jobs = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        if "=" in line.split()[0]:
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
        else:
            jobs.append(line)
    assert len(jobs) == 1
    return variables, jobs[0]


def test_crontab_line_runs(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt, tmp_path: Path
) -> None:
    """The crontab entry, hourly at minute 0, syncs when run by sh in cron's bare environment
    with a HOME that cannot be written (a system user's /nonexistent): its log goes where
    the crontab's own ORDERAMT_LOG_FILE line says."""
    one_changed_order(sqlite_portal)
    odoo.add_order(id=1, name="S00001", amount_total=5.0)
    home = install_dir(tmp_path, orderamt_sqlite, log_file=False)
    variables, entry = crontab_entry(ROOT / "crontab.example")
    fields = entry.split(None, 5)
    assert fields[:5] == ["0", "*", "*", "*", "*"]
    command = fields[5].replace("/opt/orderamt", str(home))
    logs = tmp_path / "var-log-orderamt"
    logs.mkdir()
    given = {k: v.replace("/var/log/orderamt", str(logs)) for k, v in variables.items()}
    # /proc refuses every write, to root as well: a HOME like a system user's /nonexistent.
    cron = {**bare_environment(tmp_path), "HOME": "/proc/nonexistent", **given}
    run = subprocess.run(
        ["sh", "-c", command], env=cron, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("5.00")}
    assert "Synced order amount from Odoo" in (logs / "orderamt.log").read_text()
    quiet = subprocess.run(
        ["sh", "-c", command], env=cron, capture_output=True, text=True, check=False
    )
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def unit_settings(unit: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """A unit file's settings (a shipped unit's by name), and the environment its
    Environment= lines give."""
    settings: dict[str, str] = {}
    environment: dict[str, str] = {}
    path = ROOT / "contrib/systemd" / unit if isinstance(unit, str) else unit
    for line in path.read_text().splitlines():
        if "=" not in line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        if key == "Environment":
            variable, _, setting = value.partition("=")
            environment[variable] = setting
        else:
            settings[key] = value
    return settings, environment


@pytest.mark.parametrize("name", ["orderamt.service", "orderamt-listen.service"])
def test_systemd_units_are_hardened(name: str) -> None:
    """Each unit keeps its log and metrics where systemd gives a system user room, files
    unreadable to others, the hardening on, and no lock of its own: the timer's run and the
    listener of one portal take the lock that lives with its data."""
    unit, environment = unit_settings(name)
    for key, value in [("StateDirectory", "orderamt"), ("LogsDirectory", "orderamt"),
                       ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                       ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("UMask", "0027"),
                       ("PrivateUsers", "yes"), ("CapabilityBoundingSet", "")]:  # fmt: skip
        assert unit[key] == value, key
    assert environment == {
        "ORDERAMT_LOG_FILE": "/var/log/orderamt/orderamt.log",
        "ORDERAMT_METRICS_FILE": "/var/lib/orderamt/orderamt.prom",
    }


def test_systemd_service_runs_for_a_system_user(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt, tmp_path: Path
) -> None:
    """The service's ExecStart, run in its WorkingDirectory with only its Environment= and a
    HOME that cannot be written (a system user's /nonexistent), syncs and logs where the
    unit says; the timer is hourly."""
    one_changed_order(sqlite_portal)
    odoo.add_order(id=1, name="S00001", amount_total=5.0)
    home = install_dir(tmp_path, orderamt_sqlite)
    # The .env of a real install names no log file: the unit's Environment= does.
    env_file = home / ".env"
    env_file.write_text(
        "".join(
            line + "\n"
            for line in env_file.read_text().splitlines()
            if not line.startswith("ORDERAMT_LOG_FILE=")
        )
    )
    unit, environment = unit_settings("orderamt.service")
    assert unit["Type"] == "oneshot"
    logs = tmp_path / "var-log-orderamt"
    logs.mkdir()
    command = shlex.split(unit["ExecStart"].replace("/opt/orderamt", str(home)))
    workdir = unit["WorkingDirectory"].replace("/opt/orderamt", str(home))
    given = {
        k: v.replace("/var/log/orderamt", str(logs)).replace("/var/lib/orderamt", str(logs))
        for k, v in environment.items()
    }
    # /proc refuses every write, to root as well: a HOME like a system user's /nonexistent.
    system_user = {"HOME": "/proc/nonexistent", "PATH": "/usr/bin:/bin", **given}
    run = subprocess.run(
        command, cwd=workdir, env=system_user, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("5.00")}
    assert "Synced order amount from Odoo" in (logs / "orderamt.log").read_text()
    assert (logs / "orderamt.prom").is_file()
    timer = (ROOT / "contrib/systemd/orderamt.timer").read_text()
    assert "OnCalendar=hourly" in timer.splitlines()
