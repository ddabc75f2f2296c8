"""The shipped systemd units, and those `orderamt init --systemd` writes, as systemd's own
analyzer reads them: valid (`systemd-analyze verify`) and hardened (`security`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from orderamt.cli import cli

ROOT = Path(__file__).parent.parent.parent
SHIPPED = ROOT / "contrib" / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed here (Debian: apt install systemd)"
)
GOOD_ENOUGH = 2.0
"""The exposure level each service must stay under (systemd says OK up to 3.9)."""


def placed(units: list[Path], folder: Path, program: Path) -> list[Path]:
    """Copies of `units` in `folder` whose ExecStart= names `program`, which exists: verify
    fails on a command that is not there, and /opt/orderamt is not on this machine."""
    copies = []
    for unit in units:
        text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={program}", unit.read_text())
        (folder / unit.name).write_text(text)
        copies.append(folder / unit.name)
    return copies


def stand_in(tmp_path: Path) -> Path:
    program = tmp_path / "bin" / "orderamt"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


def exposure(unit: Path) -> float:
    """`systemd-analyze security --offline=true UNIT`'s overall exposure level."""
    assert ANALYZE is not None
    run = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", run.stdout)
    assert found, run.stdout + run.stderr
    return float(found.group(1))


def units_init_writes(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "srv" / "portal"
    assert CliRunner().invoke(cli, ["init", str(folder), "--systemd"]).exit_code == 0
    return sorted(folder.glob("orderamt-*"))


@needs_analyze
@pytest.mark.parametrize("source", ["shipped", "init"])
def test_units_verify(source: str, tmp_path: Path) -> None:
    """`systemd-analyze verify` finds nothing to say about the units (the timer's service
    included), as shipped and as `init` writes them."""
    assert ANALYZE is not None
    units = sorted(SHIPPED.iterdir()) if source == "shipped" else units_init_writes(tmp_path)
    assert len(units) == 3
    folder = tmp_path / "units"
    folder.mkdir()
    copies = placed(units, folder, stand_in(tmp_path))
    run = subprocess.run(
        [ANALYZE, "verify", *map(str, copies)], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


@needs_analyze
@pytest.mark.parametrize("name", ["orderamt.service", "orderamt-listen.service"])
def test_shipped_services_rate_ok(name: str) -> None:
    """`systemd-analyze security` rates each shipped service well under its OK line (it was
    8.5, EXPOSED), and files it makes are unreadable to others (UMask=)."""
    assert exposure(SHIPPED / name) < GOOD_ENOUGH
    assert "UMask=0027" in (SHIPPED / name).read_text().splitlines()


@needs_analyze
def test_services_init_writes_rate_as_the_shipped_ones(tmp_path: Path) -> None:
    """The services `init` writes keep all of the hardening."""
    services = [unit for unit in units_init_writes(tmp_path) if unit.suffix == ".service"]
    assert len(services) == 2
    for unit in services:
        assert exposure(unit) < GOOD_ENOUGH
