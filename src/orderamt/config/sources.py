"""The settings' sources: the real environment over an optional `.env` file, and the
names in that file orderamt does not know."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from orderamt.config.fields import field_name
from orderamt.errors import ConfigError

DEFAULT_ENV_FILE = Path(".env")

KNOWN_NAMES = frozenset(
    {
        "ODOO_URL", "ODOO_DB", "ODOO_USERNAME", "ODOO_PASSWORD", "ODOO_TIMEOUT",
        "ODOO_PROTOCOL", "ODOO_RETRIES", "ODOO_RETRY_WAIT", "ODOO_RETRY_MAX_TIME",
        "PORTAL_DATABASE_URL", "PORTAL_ORDERS_TABLE", "PORTAL_COL_ID", "PORTAL_COL_NUMBER",
        "PORTAL_COL_AMOUNT", "PORTAL_COL_ODOO_ID", "PORTAL_COL_CREATED", "PORTAL_COL_UPDATED",
        "PORTAL_COL_CURRENCY", "PORTAL_CURRENCY", "PORTAL_TIMEZONE",
        "ORDERAMT_LOG_FILE", "ORDERAMT_BATCH_SIZE", "ORDERAMT_JOURNAL_TABLE",
        "ORDERAMT_ON_CONFLICT", "ORDERAMT_LOCK", "ORDERAMT_LOCK_FILE", "ORDERAMT_METRICS_FILE",
        "ORDERAMT_CHANGED_MARGIN", "ORDERAMT_LISTEN", "ORDERAMT_WEBHOOK_SECRET",
        "ORDERAMT_WEBHOOK_DELAY", "ORDERAMT_POLL_INTERVAL",
    }
)  # fmt: skip
"""Every setting orderamt reads; any other ODOO_/PORTAL_/ORDERAMT_ name in .env is a typo."""
PREFIXES = ("ODOO_", "PORTAL_", "ORDERAMT_")


@dataclass(frozen=True)
class Environment:
    """The settings' sources: the real environment over the `.env` file."""

    values: dict[str, str]
    env_file: Path | None
    """The file read, absolute; None when there was none."""
    from_file: frozenset[str] = frozenset()
    """The names whose value came from the file (the environment did not set them)."""

    def unknown_names(self) -> list[str]:
        """Each unknown ODOO_/PORTAL_/ORDERAMT_ name in the file, with the nearest known."""
        warnings = []
        for name in sorted(self.from_file):
            if name.startswith(PREFIXES) and name not in KNOWN_NAMES and not field_name(name):
                near = _nearest(name)
                hint = f" (did you mean {near}?)" if near else ""
                warnings.append(f"{self.env_file}: unknown setting {name}{hint}; ignored")
        return warnings


def _nearest(name: str) -> str | None:
    """The known setting `name` most likely meant: alike as a whole or after its prefix
    (ORDERAMT_TIMOUT is ODOO_TIMEOUT with the wrong prefix)."""

    def tail(text: str) -> str:
        return text.split("_", 1)[1] if "_" in text else text

    def likeness(known: str) -> float:
        whole = difflib.SequenceMatcher(None, name, known).ratio()
        return max(whole, difflib.SequenceMatcher(None, tail(name), tail(known)).ratio())

    best = max(KNOWN_NAMES, key=lambda known: (likeness(known), known))
    return best if likeness(best) >= 0.75 else None


def read_environment(environ: Mapping[str, str], env_file: Path | None) -> dict[str, str]:
    """The real environment laid over the `.env` file: the environment wins."""
    return read_sources(environ, env_file).values


def read_sources(environ: Mapping[str, str], env_file: Path | None) -> Environment:
    """The real environment laid over the `.env` file: the environment wins.

    Without an explicit file, `./.env` is read when it exists, as python-dotenv users expect.
    """
    merged: dict[str, str] = {}
    if env_file is not None:
        if not env_file.is_file():
            raise ConfigError(f"configuration: the env file {env_file.absolute()} does not exist")
        path: Path | None = env_file.absolute()
    else:
        path = DEFAULT_ENV_FILE.absolute() if DEFAULT_ENV_FILE.is_file() else None
    from_file: set[str] = set()
    if path is not None:
        try:
            values = dotenv_values(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"configuration: cannot read {path}: {exc}") from exc
        merged.update({k: v for k, v in values.items() if v is not None})
        from_file = {k for k, v in values.items() if v is not None and k not in environ}
    merged.update(environ)
    return Environment(merged, path, frozenset(from_file))
