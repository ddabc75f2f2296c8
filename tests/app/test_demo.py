"""`orderamt demo` runs the real sync on built-in data, with nothing set up and nothing left."""

from __future__ import annotations

import tempfile
from pathlib import Path

from click.testing import CliRunner

from orderamt.cli import cli
from tests.sync.test_sweep import SCENARIO_LINES


def test_demo_runs_the_three_order_scenario() -> None:
    """The demo prints the real report of the three-order scenario and exits 0."""
    before = set(Path(tempfile.gettempdir()).glob("orderamt-demo-*"))
    result = CliRunner().invoke(cli, ["demo"], env={"LANG": "C.UTF-8", "LC_ALL": None})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Demo: a throw-away portal database and an Odoo test double at ")
    assert "http://127.0.0.1:" in lines[0]
    assert lines[2:13] == SCENARIO_LINES
    assert result.stderr == ""
    assert set(Path(tempfile.gettempdir()).glob("orderamt-demo-*")) == before


def test_demo_ignores_the_users_configuration(tmp_path: Path) -> None:
    """A .env or ODOO_* variables in the environment do not leak into the demo."""
    Path(".env").write_text("PORTAL_DATABASE_URL=sqlite:////nonexistent/portal.db\n")
    result = CliRunner().invoke(
        cli, ["demo"], env={"ODOO_URL": "http://127.0.0.1:9", "PORTAL_COL_AMOUNT": "nope"}
    )
    assert result.exit_code == 0, result.stderr
