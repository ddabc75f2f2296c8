"""The scheduling examples work as written: their command lines, run as the scheduler would."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

ROOT = Path(__file__).parent.parent
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def install_dir(tmp_path: Path, orderamt: Orderamt) -> Path:
    """A stand-in for /opt/orderamt: the .env the examples expect and .venv/bin/orderamt."""
    home = tmp_path / "opt-orderamt"
    (home / ".venv" / "bin").mkdir(parents=True)
    script = home / ".venv" / "bin" / "orderamt"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m orderamt "$@"\n')
    script.chmod(0o755)
    settings = {
        k: v for k, v in orderamt.env.items() if k.startswith(("ODOO_", "PORTAL_", "ORDERAMT_"))
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


def test_crontab_line_runs(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt, tmp_path: Path
) -> None:
    """The crontab entry, hourly at minute 0, syncs when run by sh in cron's bare environment."""
    one_changed_order(sqlite_portal)
    odoo.add_order(id=1, name="S00001", amount_total=5.0)
    home = install_dir(tmp_path, orderamt_sqlite)
    entries = [
        line for line in (ROOT / "crontab.example").read_text().splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]  # fmt: skip
    assert len(entries) == 1
    fields = entries[0].split(None, 5)
    assert fields[:5] == ["0", "*", "*", "*", "*"]
    command = fields[5].replace("/opt/orderamt", str(home))
    cron = bare_environment(tmp_path)
    run = subprocess.run(
        ["sh", "-c", command], env=cron, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("5.00")}
    quiet = subprocess.run(
        ["sh", "-c", command], env=cron, capture_output=True, text=True, check=False
    )
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_systemd_service_runs(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt, tmp_path: Path
) -> None:
    """The service's ExecStart, run in its WorkingDirectory, syncs; the timer is hourly."""
    one_changed_order(sqlite_portal)
    odoo.add_order(id=1, name="S00001", amount_total=5.0)
    home = install_dir(tmp_path, orderamt_sqlite)
    unit = dict(
        line.split("=", 1)
        for line in (ROOT / "contrib/systemd/orderamt.service").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert unit["Type"] == "oneshot"
    command = shlex.split(unit["ExecStart"].replace("/opt/orderamt", str(home)))
    workdir = unit["WorkingDirectory"].replace("/opt/orderamt", str(home))
    bare = bare_environment(tmp_path)
    run = subprocess.run(
        command, cwd=workdir, env=bare, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert sqlite_portal.amounts() == {"A": Decimal("5.00")}
    timer = (ROOT / "contrib/systemd/orderamt.timer").read_text()
    assert "OnCalendar=hourly" in timer.splitlines()
