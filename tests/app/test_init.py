"""`orderamt init`: the files a new install needs, with the paths of this install."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orderamt.app.init import portal_name
from orderamt.cli import cli
from tests.conftest import child_environment

ROOT = Path(__file__).parent.parent.parent


def setting(unit: Path, key: str) -> str:
    """The value of `key=` in a unit file (its one line)."""
    found = [line for line in unit.read_text().splitlines() if line.startswith(f"{key}=")]
    assert len(found) == 1, found
    return found[0].removeprefix(f"{key}=")


def test_init_writes_a_commented_env_and_on_request_the_schedulers(tmp_path: Path) -> None:
    """The .env is the documented example; the cron line and the units name this folder and
    an orderamt program instead of /opt/orderamt, the units under the portal's own name."""
    folder = tmp_path / "portal-a"
    result = CliRunner().invoke(cli, ["init", str(folder), "--cron", "--systemd"])
    assert result.exit_code == 0, result.stderr
    assert (folder / ".env").read_text() == (ROOT / ".env.example").read_text()
    name = portal_name(folder)
    assert name.endswith("-portal_a")
    written = {p.name for p in folder.iterdir()}
    assert written == {".env", "crontab", f"orderamt-{name}.service", f"orderamt-{name}.timer",
                       f"orderamt-{name}-listen.service"}  # fmt: skip
    service = folder / f"orderamt-{name}.service"
    assert setting(service, "WorkingDirectory") == str(folder)
    exec_start = setting(service, "ExecStart")
    assert exec_start.endswith("orderamt sync --quiet")
    assert "/opt/orderamt" not in exec_start
    crontab = (folder / "crontab").read_text()
    assert f"cd {folder} && " in crontab
    assert f"ORDERAMT_LOG_FILE=/var/log/orderamt/{name}/orderamt.log" in crontab.splitlines()
    assert f"then: {exec_start.removesuffix(' sync --quiet')} check" in result.stdout
    if os.name == "posix":  # the .env will hold the passwords: its owner's alone
        assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o600
    # ... and the units' user is told how to read it.
    assert f"chgrp orderamt {folder / '.env'} && chmod 0640" in result.stdout


def test_two_portals_get_units_logs_and_metrics_of_their_own(tmp_path: Path) -> None:
    """Two portals on one host: no unit name, log, metrics file or systemd directory in
    common; each timer starts its own portal's service."""
    seen: dict[str, set[str]] = {}
    for folder in (tmp_path / "srv" / "shop", tmp_path / "srv" / "shop-b"):
        assert CliRunner().invoke(cli, ["init", str(folder), "--systemd"]).exit_code == 0
        name = portal_name(folder)
        for unit in (f"orderamt-{name}.service", f"orderamt-{name}-listen.service"):
            values = {
                setting(folder / unit, "LogsDirectory"),
                setting(folder / unit, "StateDirectory"),
                setting(folder / unit, "Environment=ORDERAMT_LOG_FILE"),
                setting(folder / unit, "Environment=ORDERAMT_METRICS_FILE"),
                unit,
            }
            assert f"orderamt/{name}" in values
            assert f"/var/log/orderamt/{name}/orderamt.log" in values
            assert f"/var/lib/orderamt/{name}/orderamt.prom" in values
            seen.setdefault(str(folder), set()).update(values)
        assert (folder / f"orderamt-{name}.timer").is_file()
    first, second = seen.values()
    assert not first & second


def test_init_names_the_program_that_ran_it_even_in_opt_orderamt(tmp_path: Path) -> None:
    """Run as <install>/opt/orderamt/.venv/bin/orderamt (the README's install), init writes
    that very program into ExecStart= and the cron line, not a path it guessed."""
    script = tmp_path / "opt" / "orderamt" / ".venv" / "bin" / "orderamt"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!{sys.executable}\nfrom orderamt.cli import main\nmain()\n")
    script.chmod(0o755)
    folder = tmp_path / "srv" / "portal"
    run = subprocess.run(
        [str(script), "init", str(folder), "--systemd", "--cron"],
        env=child_environment(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    name = portal_name(folder)
    for unit, command in [(f"orderamt-{name}.service", "sync --quiet"),
                          (f"orderamt-{name}-listen.service", "listen")]:  # fmt: skip
        assert setting(folder / unit, "ExecStart") == f"{script} {command}"
    assert f"cd {folder} && {script} sync --quiet" in (folder / "crontab").read_text()


@pytest.mark.skipif(os.name != "posix", reason="a pipe closed early is a POSIX scene")
def test_init_with_its_output_closed_early_says_so_in_one_line(tmp_path: Path) -> None:
    """`orderamt init ... | head -0`: every file is written, and the one line on stderr says
    the output was cut short, not that the folder cannot be written."""
    reading, writing = os.pipe()
    os.close(reading)
    folder = tmp_path / "portal"
    try:
        run = subprocess.run(
            [sys.executable, "-m", "orderamt", "init", str(folder), "--systemd"],
            env=child_environment(), stdout=writing, stderr=subprocess.PIPE, text=True,
            check=False,
        )  # fmt: skip
    finally:
        os.close(writing)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"orderamt: the output was cut short (broken pipe); the files in {folder} were written"
    ]
    assert len(list(folder.iterdir())) == 4
    assert (folder / ".env").read_text() == (ROOT / ".env.example").read_text()


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


def test_a_portal_under_home_keeps_its_folder_visible_to_the_units(tmp_path: Path) -> None:
    """A portal in /home (a Laravel Forge site): ProtectHome=yes would hide the folder the
    service starts in, so the units `init` writes say read-only there; elsewhere, yes."""
    from orderamt.app.init import _adapt, _places

    shipped = (ROOT / "contrib/systemd/orderamt.service").read_text()
    assert "ProtectHome=yes" in shipped.splitlines()
    forge = _adapt(shipped, _places("orderamt", Path("/home/forge/shop"), "home-forge-shop"))
    assert "ProtectHome=read-only" in forge.splitlines()
    assert "ProtectHome=yes" not in forge.splitlines()
    srv = _adapt(shipped, _places("orderamt", Path("/srv/shop"), "srv-shop"))
    assert "ProtectHome=yes" in srv.splitlines()
