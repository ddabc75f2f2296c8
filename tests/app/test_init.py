"""`orderamt init`: the files a new install needs, with the paths of this install."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from click.testing import CliRunner

from orderamt.cli import cli

ROOT = Path(__file__).parent.parent.parent


def test_init_writes_a_commented_env_and_on_request_the_schedulers(tmp_path: Path) -> None:
    """The .env is the documented example; the cron line and the units name this folder and
    an orderamt program instead of /opt/orderamt."""
    folder = tmp_path / "portal-a"
    result = CliRunner().invoke(cli, ["init", str(folder), "--cron", "--systemd"])
    assert result.exit_code == 0, result.stderr
    assert (folder / ".env").read_text() == (ROOT / ".env.example").read_text()
    written = {p.name for p in folder.iterdir()}
    assert written == {".env", "crontab", "orderamt.service", "orderamt.timer",
                       "orderamt-listen.service"}  # fmt: skip
    service = (folder / "orderamt.service").read_text()
    assert f"WorkingDirectory={folder}" in service.splitlines()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith("orderamt sync --quiet")
    assert "/opt/orderamt" not in exec_start
    assert f"cd {folder} && " in (folder / "crontab").read_text()
    assert f"then: {exec_start.removeprefix('ExecStart=').split()[0]} check" in result.stdout
    if os.name == "posix":  # the .env will hold the passwords: its owner's alone
        assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o600


def test_init_replaces_nothing_without_force(tmp_path: Path) -> None:
    """An .env already there is kept, byte for byte, and the refusal is one line, exit 2."""
    (tmp_path / ".env").write_text("ODOO_URL=https://mine.example.com\n")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"orderamt: {tmp_path / '.env'} already there: nothing written (--force replaces)"
    ]
    assert (tmp_path / ".env").read_text() == "ODOO_URL=https://mine.example.com\n"
    (tmp_path / ".env").chmod(0o644)
    forced = CliRunner().invoke(cli, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert (tmp_path / ".env").read_text() == (ROOT / ".env.example").read_text()
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
