"""`orderamt init`: the .env, crontab and systemd units written for this install."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from orderamt.errors import (
    ExitCode,
    UsageError,
)


def init(
    folder: Path, *, cron: bool, systemd: bool, force: bool, echo: Callable[[str], None]
) -> ExitCode:
    """`orderamt init`: a commented .env, and on request the cron line or the systemd units,
    written into `folder` with the paths of this install."""
    from importlib.resources import files

    examples = files("orderamt") / "examples"
    program = Path(sys.argv[0]).absolute()
    if program.name not in ("orderamt", "orderamt.exe"):
        program = Path(sys.executable).parent / "orderamt"
    home = folder.absolute()
    wanted = {".env": (examples / "env.example").read_text(encoding="utf-8")}
    if cron:
        wanted["crontab"] = (examples / "crontab.example").read_text(encoding="utf-8")
    if systemd:
        for name in ("orderamt.service", "orderamt.timer", "orderamt-listen.service"):
            wanted[name] = (examples / "contrib" / "systemd" / name).read_text(encoding="utf-8")
    existing = [name for name in wanted if (home / name).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(home / name) for name in existing)} already there: nothing "
            "written (--force replaces)"
        )
    try:
        home.mkdir(parents=True, exist_ok=True)
        for name, content in wanted.items():
            text_ = content.replace("/opt/orderamt/.venv/bin/orderamt", str(program))
            text_ = text_.replace("/opt/orderamt", str(home))
            _write(home / name, text_, private=name == ".env")
            echo(f"wrote {home / name}")
    except OSError as exc:
        raise UsageError(f"cannot write into {home}: {exc.strerror or exc}") from None
    echo("")
    echo(f"Next: fill in {home / '.env'} (ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD,")
    echo(f"PORTAL_DATABASE_URL), then: {program} check --env-file {home / '.env'}")
    return ExitCode.OK


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
