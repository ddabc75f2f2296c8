"""Every build its own version, and an upgrade in place: the installed wheel, as an operator has it.

Builds two wheels from a clone of this checkout (its HEAD, then one commit more), installs
the first in a fresh virtual environment, syncs, upgrades with a plain `pip install
--upgrade` and syncs again. Full matrix only (tests/conftest.py): two builds take a while.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy
from packaging.version import Version

from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.builds_wheels

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "orderamt tests",
    "GIT_AUTHOR_EMAIL": "tests@orderamt.invalid",
    "GIT_COMMITTER_NAME": "orderamt tests",
    "GIT_COMMITTER_EMAIL": "tests@orderamt.invalid",
}


def run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def build_wheel(src: Path, into: Path) -> Path:
    """`pip wheel` as a user builds from a clone: build isolation, the build backend from PyPI."""
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", into, src)
    (wheel,) = into.glob("orderamt-*.whl")
    return wheel


def version_of(wheel: Path) -> Version:
    return Version(wheel.name.split("-")[1])


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the version comes from the git history")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an sdist carries its version in PKG-INFO)")
    src = tmp_path / "src"
    run("git", "clone", "--quiet", "--no-hardlinks", ROOT, src)
    return src


@pytest.mark.parametrize("protocol", ["xmlrpc"])
def test_upgrade_in_place_installs_the_newer_build_and_keeps_the_journal(
    clone: Path,
    sqlite_portal: PortalDb,
    odoo: OdooDouble,
    orderamt_sqlite: Orderamt,
    tmp_path: Path,
) -> None:
    older = build_wheel(clone, tmp_path / "older")
    run("git", "-C", clone, "commit", "--quiet", "--allow-empty", "-m", "One commit more",
        env={**os.environ, **GIT_IDENTITY})  # fmt: skip
    newer = build_wheel(clone, tmp_path / "newer")
    assert version_of(newer) > version_of(older) >= Version("0.1.0")

    # A fresh environment with the wheel alone; its dependencies seen from this one's.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    (site,) = venv.glob("lib/python*/site-packages")
    (site / "deps.pth").write_text(str(Path(sqlalchemy.__file__).parent.parent) + "\n")
    bin_dir = venv / "bin"
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path),
           **orderamt_sqlite.env}  # fmt: skip

    recent = datetime.now().replace(microsecond=0) - timedelta(days=1)
    sqlite_portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": recent, "updated_at": recent}
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=5.0)

    run(bin_dir / "pip", "install", "-q", "--no-deps", "--no-index", older)
    assert run(bin_dir / "orderamt", "--version").split()[-1] == str(version_of(older))
    run(bin_dir / "orderamt", "sync", "--quiet", env=env)

    upgrade = run(bin_dir / "pip", "install", "--upgrade", "--no-deps", "--no-index", newer)
    assert "already satisfied" not in upgrade
    assert run(bin_dir / "orderamt", "--version").split()[-1] == str(version_of(newer))

    odoo.write([1], amount_total=7.0)
    run(bin_dir / "orderamt", "sync", "--quiet", env=env)
    history = json.loads(run(bin_dir / "orderamt", "history", "--order-id", "1", "--json", env=env))
    amounts = [(c["old_amount"], c["new_amount"]) for c in history["changes"]]
    assert sorted(amounts) == [("1.00", "5.00"), ("5.00", "7.00")]
