"""The shipped logrotate snippet (contrib/logrotate/orderamt), run by the real logrotate
while a real `orderamt listen` writes the log."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from orderamt.testing import OdooDouble
from tests.app.test_operation import start
from tests.conftest import Orderamt, PortalDb
from tests.listen.test_listener_process import SECRET, Listener, wait_for

ROOT = Path(__file__).parent.parent.parent
SNIPPET = ROOT / "contrib" / "logrotate" / "orderamt"
LOGROTATE = shutil.which(
    "logrotate", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
)
RECENT = datetime.now().replace(microsecond=0) - timedelta(days=1)


def snippet_for(logs: Path, listener_pid: int) -> str:
    """The shipped snippet for this test's folder, user and listener: the paths, the owner
    `create` gives, and the SIGHUP sent to this listener rather than through systemctl."""
    text = SNIPPET.read_text()
    shipped_paths = "/var/log/orderamt/*.log /var/log/orderamt/*/*.log"
    assert shipped_paths in text
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    lines = []
    for line in text.replace(shipped_paths, f"{logs}/*.log").splitlines():
        if line.strip() == "create 0640 orderamt orderamt":
            line = f"    create 0640 {user} {group}"
        elif line.strip().startswith("systemctl kill"):
            assert "--signal=HUP" in line
            line = f"        kill -HUP {listener_pid}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def listener(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt
) -> Iterator[Listener]:
    sqlite_portal.insert(
        {"order_number": "SO-1", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": RECENT, "updated_at": RECENT}
    )  # fmt: skip
    odoo.add_order(id=1, amount_total=1.0)
    process = start(
        orderamt_sqlite, "listen", ORDERAMT_LISTEN="127.0.0.1:0",
        ORDERAMT_WEBHOOK_SECRET=SECRET, ORDERAMT_WEBHOOK_DELAY="0.2",
    )  # fmt: skip
    try:
        yield Listener(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.skipif(
    LOGROTATE is None, reason="logrotate is not installed here (Debian: apt install logrotate)"
)
def test_logrotate_rotates_and_the_listener_writes_on_in_the_new_file(
    sqlite_portal: PortalDb, odoo: OdooDouble, orderamt_sqlite: Orderamt,
    listener: Listener, tmp_path: Path,
) -> None:  # fmt: skip
    """logrotate (its own state file, forced) moves the log aside and creates a new one,
    0640; the listener goes on, and the lines of its next batch land in the new file, none
    in the rotated one."""
    assert LOGROTATE is not None
    log_file = orderamt_sqlite.log_file
    wait_for(lambda: log_file.exists() and "Catch-up poll finished" in log_file.read_text(
        encoding="utf-8"), "the first poll in the log")  # fmt: skip
    conf = tmp_path / "logrotate.conf"
    conf.write_text(snippet_for(log_file.parent, listener.process.pid))
    conf.chmod(0o644)
    run = subprocess.run(
        [LOGROTATE, "--state", str(tmp_path / "logrotate.state"), "--force", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rotated = [p for p in log_file.parent.iterdir() if p.name.startswith("orderamt.log-")]
    assert len(rotated) == 1, sorted(p.name for p in log_file.parent.iterdir())
    assert "Catch-up poll finished" in rotated[0].read_text(encoding="utf-8")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o640
    odoo.change(1, amount_total=12.0)
    assert odoo.send_webhook(listener.hook, odoo.webhook_payload(1))[0] == 202
    wait_for(lambda: sqlite_portal.amounts()["SO-1"] == Decimal("12.00"), "the batch")
    wait_for(lambda: "Synced order amount from Odoo" in log_file.read_text(encoding="utf-8"),
             "the batch's lines in the new log file")  # fmt: skip
    assert listener.process.poll() is None
    _, err = listener.stop()
    assert listener.process.returncode == 0, err
    assert "Synced order amount" not in rotated[0].read_text(encoding="utf-8")
