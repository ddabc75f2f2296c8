"""The project's exceptions, each carrying the exit code the command ends with."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `orderamt` exits with; cron, systemd and monitoring read these."""

    OK = 0
    """The run completed, with or without changes."""
    PARTIAL = 1
    """The run completed, but some orders could not be brought in line with Odoo."""
    USAGE = 2
    """A bad option, a bad configuration value, or an order that cannot be synced."""
    ODOO = 3
    """Odoo could not be reached, refused the login, or answered with something unusable."""
    PORTAL = 4
    """The portal database could not be reached, or its schema does not match."""
    LOCKED = 75
    """Another run holds the lock (EX_TEMPFAIL): this one did nothing and may be retried."""


EXIT_CODES_HELP = """\
\b
Exit codes:
  0  the run completed (with or without changes)
  1  the run completed, but some orders could not be synced (see the report)
  2  usage or configuration error
  3  Odoo unreachable, refused the login, or answered with something unusable
  4  the portal database unreachable, or its schema does not match
  75 another run is still going (the lock is held); nothing was done"""


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


class OdooError(OrderamtError):
    """Odoo is unreachable, refused the login, or answered with something unusable."""

    exit_code = ExitCode.ODOO


class OdooUnavailable(OdooError):
    """A failure that may pass: a refused or reset connection, a timeout, HTTP 429/502/503/504.

    Worth retrying; a refused login, a fault or an unusable answer is not.
    """


class LockedError(OrderamtError):
    """Another run holds the lock."""

    exit_code = ExitCode.LOCKED


class PortalError(OrderamtError):
    """The portal database is unreachable, or its table or columns do not match."""

    exit_code = ExitCode.PORTAL
