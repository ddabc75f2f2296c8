"""The command's surface: help, version, usage errors, and output fit for a pipe or a C locale."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from orderamt import __version__
from orderamt.cli import cli
from orderamt.testing import OdooDouble
from tests.conftest import Orderamt, PortalDb


def exit_codes_in_help(args: list[str]) -> list[int]:
    """The codes the 'Exit codes:' block of `orderamt ARGS --help` lists."""
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0
    block = result.stdout.split("Exit codes:")[1]
    return [int(line.split()[0]) for line in block.strip().splitlines()]


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ([], [0, 1, 2, 3, 4, 75, 130, 143]),
        (["sync"], [0, 1, 2, 3, 4, 75, 130, 143]),
        (["revert"], [0, 1, 2, 4, 75, 130, 143]),
        (["history"], [0, 2, 4]),
        (["check"], [0, 2, 3, 4]),
        (["demo"], [0, 3, 4, 130]),
    ],
)
def test_help_lists_the_exit_codes_of_its_command(command: list[str], codes: list[int]) -> None:
    """`--help` on each command lists the codes that command can return, and no others."""
    assert exit_codes_in_help(command) == codes


def test_help_says_what_each_code_means() -> None:
    """The codes cron and monitoring read are explained in words."""
    result = CliRunner().invoke(cli, ["sync", "--help"])
    for line in [
        "  0  the run completed (with or without changes)",
        "  2  usage or configuration error",
        "  3  Odoo unreachable, refused the login, or answered with something unusable",
        "  4  the portal database unreachable, or its schema does not match",
        " 75  another run is still going (the lock is held); nothing was done",
        "130  stopped by Ctrl-C; the batch in flight was rolled back",
        "143  stopped by SIGTERM; the batch in flight was rolled back",
    ]:
        assert line in result.stdout


def test_version() -> None:
    """`--version` prints the installed version."""
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"orderamt, version {__version__}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--all", "--order-id", "3"], "--all and --order-id cannot be used together"),
        (["sync", "--all", "--days", "3"], "--all and --days cannot be used together"),
        (["sync", "--days", "x"], "'x' is not a positive whole number"),
        (["sync", "--nope"], "--nope"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    """A bad option is one line on stderr and exit 2."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _subprocess_env(orderamt: Orderamt, **extra: str) -> dict[str, str]:
    """The configured settings, with no locale unless `extra` sets one."""
    env = {**os.environ, **{k: v for k, v in orderamt.env.items() if v}}
    env = {k: v for k, v in env.items() if not k.startswith(("LC_", "LANG"))}
    return {**env, **extra}


@pytest.fixture
def two_orders(sqlite_portal: PortalDb, odoo: OdooDouble) -> PortalDb:
    created = datetime.now() - timedelta(days=1)
    sqlite_portal.insert(
        {"order_number": "A", "total_amount": Decimal("1.00"), "odoo_order_id": 1,
         "created_at": created, "updated_at": created},
        {"order_number": "B", "total_amount": Decimal("2.00"), "odoo_order_id": 2,
         "created_at": created, "updated_at": created},
    )  # fmt: skip
    odoo.add_order(id=1, name="S00001", amount_total=10.0)
    odoo.add_order(id=2, name="S00002", amount_total=2.0)
    return sqlite_portal


def test_pipe_gets_no_colour_codes(two_orders: PortalDb, orderamt_sqlite: Orderamt) -> None:
    """Run as cron does, stdout to a pipe: emoji in a UTF-8 locale, but no escape codes."""
    proc = subprocess.run(
        [sys.executable, "-m", "orderamt", "sync"],
        env=_subprocess_env(orderamt_sqlite, LANG="C.UTF-8", TERM="xterm-256color"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout
    assert "  ✅ A: $1.00 → $10.00" in proc.stdout.splitlines()


def test_the_run_itself_collects_garbage(two_orders: PortalDb, orderamt_sqlite: Orderamt) -> None:
    """`orderamt` imports with the cyclic collector off (start-up, issue 24); the run has it
    on again, or a listener left running for months would keep every cycle it made."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'collector on: {gc.isenabled()}\\n'))\n"
        "from orderamt.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, "sync"],
        env=_subprocess_env(orderamt_sqlite, LANG="C.UTF-8"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "A: $1.00 → $10.00" in proc.stdout
    assert proc.stderr.splitlines()[-1] == "collector on: True"


def test_main_leaves_the_collector_on_for_a_caller_that_goes_on() -> None:
    """A program calling `main()` in its own process (and catching its SystemExit) has its
    collector on afterwards, even after --version, which never reaches a command."""
    probe = (
        "import gc, sys\n"
        "from orderamt.cli import main\n"
        "sys.argv = ['orderamt', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(f'collector on: {gc.isenabled()}')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "collector on: True"


@pytest.mark.parametrize("locale_env", [{"LANG": "C"}, {}, {"LANG": "C.UTF-8", "LC_ALL": "POSIX"}])
def test_c_locale_gets_plain_text(
    two_orders: PortalDb, orderamt_sqlite: Orderamt, locale_env: dict[str, str]
) -> None:
    """A C or unset locale (as cron often has) gets plain ASCII instead of emoji, and no crash."""
    proc = subprocess.run(
        [sys.executable, "-m", "orderamt", "sync"],
        env={**_subprocess_env(orderamt_sqlite), **locale_env},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("ascii")
    assert out.splitlines() == [
        "Syncing order amounts from Odoo...",
        "",
        "Found 2 recent orders (last 30 days)",
        "",
        "  [updated] A: $1.00 -> $10.00",
        "  [unchanged] B: No change ($2.00)",
        "",
        "Synced: 2 (1 updated, 1 unchanged)",
        "",
        "Sync complete!",
    ]


def test_windows_code_page_gets_plain_text(two_orders: PortalDb, orderamt_sqlite: Orderamt) -> None:
    """An output encoding that cannot hold emoji (cp1252) gets the plain report, not a crash."""
    proc = subprocess.run(
        [sys.executable, "-m", "orderamt", "sync"],
        env=_subprocess_env(orderamt_sqlite, LANG="en_US.UTF-8", PYTHONIOENCODING="cp1252"),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"  [updated] A: $1.00 -> $10.00" in proc.stdout.splitlines()
