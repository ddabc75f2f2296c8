"""The project's exceptions, each carrying the exit code the command ends with."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """What `orderamt` exits with; cron, systemd and monitoring read these (meanings below)."""

    OK = 0
    PARTIAL = 1
    USAGE = 2
    ODOO = 3
    PORTAL = 4
    LOCKED = 75  # EX_TEMPFAIL: may be retried
    INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
    TERMINATED = 143  # 128 + SIGTERM


_MEANINGS = {
    ExitCode.OK: "the run completed (with or without changes)",
    ExitCode.PARTIAL: "the run completed, but some orders could not be synced (see the report)",
    ExitCode.USAGE: "usage or configuration error",
    ExitCode.ODOO: "Odoo unreachable, refused the login, or answered with something unusable",
    ExitCode.PORTAL: "the portal database unreachable, or its schema does not match",
    ExitCode.LOCKED: "another run is still going (the lock is held); nothing was done",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C; the batch in flight was rolled back",
    ExitCode.TERMINATED: "stopped by SIGTERM; the batch in flight was rolled back",
}


def exit_codes_help(codes: Iterable[ExitCode] = tuple(ExitCode), *, ok: str = "") -> str:
    """The 'Exit codes:' block of a command's help, listing only the codes it can return.

    `ok` replaces the meaning of 0 for commands that are no run (history, check).
    """
    lines = ["\b", "Exit codes:"]
    for code in sorted(codes):
        meaning = ok if code is ExitCode.OK and ok else _MEANINGS[code]
        lines.append(f"  {int(code):>3}  {meaning}")
    return "\n".join(lines)


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, like KeyboardInterrupt for Ctrl-C."""


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code a run stopped by `exc` ends with."""
    if isinstance(exc, OrderamtError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, Terminated):
        return ExitCode.TERMINATED
    return ExitCode.PARTIAL  # a bug: Python exits 1 with its traceback


class OrderamtError(Exception):
    """A known failure: one line for the user, and the exit code that goes with it."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(OrderamtError):
    """The command was asked for something it cannot do (a missing order, a bad id)."""

    exit_code = ExitCode.USAGE


class ConfigError(OrderamtError):
    """The configuration is missing or invalid; every problem is in the one message."""

    exit_code = ExitCode.USAGE


class LogError(ConfigError):
    """The log file cannot be written (a full disk, its folder gone or read-only)."""


class OdooError(OrderamtError):
    """Odoo is unreachable, refused the login, or answered with something unusable."""

    exit_code = ExitCode.ODOO


class OdooUnavailable(OdooError):
    """A failure that may pass: a refused or reset connection, a timeout, HTTP 429/502/503/504.

    Worth retrying; a refused login, a fault or an unusable answer is not.
    """


class LoginRefused(OdooError):
    """Odoo refused the credentials: the login itself, or a call made with a user id or an
    API key it no longer takes (a changed password, a revoked key)."""


class OdooRefused(OdooError):
    """Odoo refused an operation the user has no rights for (its AccessError)."""


class PushRefused(OdooError):
    """Odoo refused a change the portal made (a locked order, missing rights, an order gone):
    that one order's push is refused, the run goes on."""


class LockedError(OrderamtError):
    """Another run holds the lock."""

    exit_code = ExitCode.LOCKED


class PortalError(OrderamtError):
    """The portal database is unreachable, or its table or columns do not match."""

    exit_code = ExitCode.PORTAL
