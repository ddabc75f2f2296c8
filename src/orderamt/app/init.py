"""`orderamt init`: the .env, crontab and systemd units written for this install."""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from orderamt.errors import (
    ExitCode,
    UsageError,
)

UNITS = ("orderamt.service", "orderamt.timer", "orderamt-listen.service")
"""The shipped units (contrib/systemd), written for one portal under names of its own."""


def init(
    folder: Path, *, cron: bool, systemd: bool, force: bool, echo: Callable[[str], None]
) -> ExitCode:
    """`orderamt init`: a commented .env, and on request the cron line or the systemd units,
    written into `folder` with the paths of this install."""
    from importlib.resources import files

    examples = files("orderamt") / "examples"
    home = folder.absolute()
    program = this_program()
    name = portal_name(home)
    places = _places(program, home, name)
    wanted = {".env": (examples / "env.example").read_text(encoding="utf-8")}
    if cron:
        wanted["crontab"] = _adapt((examples / "crontab.example").read_text("utf-8"), places)
    if systemd:
        for unit in UNITS:
            text = (examples / "contrib" / "systemd" / unit).read_text(encoding="utf-8")
            wanted[places[unit]] = _adapt(text, places)
    existing = [file for file in wanted if (home / file).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(home / file) for file in existing)} already there: nothing "
            "written (--force replaces)"
        )
    try:
        home.mkdir(parents=True, exist_ok=True)
        for file, content in wanted.items():
            _write(home / file, content, private=file == ".env")
    except OSError as exc:
        raise UsageError(f"cannot write into {home}: {exc.strerror or exc}") from None
    lines = [f"wrote {home / file}" for file in wanted]
    if systemd:
        lines += [
            "",
            f"The units are named for this portal ({name}): its log goes to "
            f"/var/log/orderamt/{name}/, its metrics to /var/lib/orderamt/{name}/.",
            f"Copy them to /etc/systemd/system/; a SQLite portal's folder needs a "
            f"ReadWritePaths= line (see {home / places['orderamt.service']}).",
            f"They run as the user orderamt, who must read the .env (written 0600 for "
            f"whoever ran init): chgrp orderamt {home / '.env'} && chmod 0640 "
            f"{home / '.env'}",
        ]
    lines += [
        "",
        f"Next: fill in {home / '.env'} (ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD,",
        f"PORTAL_DATABASE_URL), then: {program} check --env-file {home / '.env'}",
    ]
    try:
        for line in lines:
            echo(line)
    except BrokenPipeError:
        # `orderamt init ... | head -1`: the files are written; only the report was cut
        # short, and that is no fault of the folder.
        _mute_stdout()
        raise UsageError(
            f"the output was cut short (broken pipe); the files in {home} were written"
        ) from None
    return ExitCode.OK


def this_program() -> str:
    """The command that runs this orderamt, for ExecStart= and cron: the `orderamt` script
    that was started (its path as run, not resolved: a venv's links stay its own), else this
    Python with `-m orderamt`, which always runs this install."""
    quote = shlex.quote if os.name == "posix" else str  # sh quoting; cmd.exe takes the path as is
    script = Path(sys.argv[0])
    if script.name in ("orderamt", "orderamt.exe") and script.is_file():
        return quote(str(script.absolute()))
    return f"{quote(sys.executable)} -m orderamt"


def portal_name(home: Path) -> str:
    """The name the units of the portal in `home` carry: its path, as systemd names paths
    (/srv/portal -> srv-portal), so two portals on one host never share a unit, a log or a
    metrics file; characters a unit name does without become _."""
    parts = [re.sub(r"[^A-Za-z0-9_.]", "_", part) for part in home.parts[1:] if part]
    return "-".join(parts) or "root"


HOMES = (Path("/home"), Path("/root"), Path("/run/user"))
"""What ProtectHome=yes hides from a service (a Laravel Forge site lives in /home/forge)."""


def _places(program: str, home: Path, name: str) -> dict[str, str]:
    """What the shipped examples say, and what this install's files say instead."""
    hidden = any(home == top or top in home.parents for top in HOMES)
    return {
        # The service reads its .env there: the folder stays visible, read-only.
        **({"ProtectHome=yes": "ProtectHome=read-only"} if hidden else {}),
        "/opt/orderamt/.venv/bin/orderamt": program,
        "/opt/orderamt": str(home),
        "/var/log/orderamt/orderamt.log": f"/var/log/orderamt/{name}/orderamt.log",
        "/var/lib/orderamt/orderamt.prom": f"/var/lib/orderamt/{name}/orderamt.prom",
        "/var/log/orderamt": f"/var/log/orderamt/{name}",
        "LogsDirectory=orderamt": f"LogsDirectory=orderamt/{name}",
        "StateDirectory=orderamt": f"StateDirectory=orderamt/{name}",
        "orderamt-listen.service": f"orderamt-{name}-listen.service",
        "orderamt.service": f"orderamt-{name}.service",
        "orderamt.timer": f"orderamt-{name}.timer",
    }


def _adapt(text: str, places: dict[str, str]) -> str:
    """`text` with every example path and name replaced in one pass: a replacement is never
    replaced again (the program of an install in /opt/orderamt stays where it is)."""
    pattern = "|".join(re.escape(key) for key in sorted(places, key=len, reverse=True))
    return re.sub(pattern, lambda found: places[found.group(0)], text)


def _mute_stdout() -> None:
    """Point stdout at nothing, so that Python's own flush at exit does not fail again."""
    with suppress(OSError, ValueError), open(os.devnull, "w", encoding="utf-8") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())


def _write(path: Path, text: str, *, private: bool) -> None:
    """Write `path`; `private` (the .env, which will hold Odoo's password and the portal
    database's): readable by its owner alone from the first byte, whatever the umask."""
    if not private:
        path.write_text(text, encoding="utf-8")
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if hasattr(os, "fchmod"):  # POSIX: an existing file (--force) keeps no wider mode
        os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
