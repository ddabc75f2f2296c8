"""The settings as frozen values, with their defaults; secrets kept out of `repr`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from orderamt import times
from orderamt.database_url import DatabaseUrl
from orderamt.models import FieldSpec
from orderamt.urls import mask_url

DEFAULT_BATCH_SIZE = 1000
"""From bench/README.md: most of the gain over 500, one call far below Odoo's 120 s limit."""
MAX_BATCH_SIZE = 10_000
DEFAULT_ODOO_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_RETRY_WAIT = 2.0
DEFAULT_RETRY_MAX_TIME = 300.0
Protocol = Literal["auto", "xmlrpc", "json2"]
"""auto (JSON-2 on Odoo 19 and later, XML-RPC before), xmlrpc or json2."""
LockKind = Literal["auto", "file", "database"]
"""auto (in the database on PostgreSQL and MariaDB, a file beside it for SQLite), file
(ORDERAMT_LOCK_FILE) or database (an advisory lock in the portal database)."""
OnConflict = Literal["odoo", "skip"]
"""odoo (Odoo wins, the conflict is flagged) or skip (leave such orders alone)."""
DEFAULT_CHANGED_MARGIN = 300.0
"""Five minutes: longer than an Odoo transaction runs (its limit_time_real is 120 s)."""


class Secret:
    """A password or key: kept out of `repr`, `str` and so out of every log and error."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class PortalSchema:
    """Where the portal keeps its orders; defaults are a Laravel `orders` table."""

    table: str = "orders"
    id: str = "id"
    number: str = "order_number"
    amount: str = "total_amount"
    odoo_id: str = "odoo_order_id"
    created: str = "created_at"
    updated: str | None = "updated_at"
    """None when the table has no column to bump on change."""
    currency: str | None = None
    """PORTAL_CURRENCY: the one currency of the amount column, where the portal has one."""
    currency_column: str | None = None
    """PORTAL_COL_CURRENCY: the column that holds each order's currency, where it keeps one."""
    timezone: str = "UTC"
    """The IANA zone the portal writes its naive `created_at`/`updated_at` in (Laravel's
    `config('app.timezone')`)."""
    timezone_from: str = field(default="PORTAL_TIMEZONE", compare=False)
    """Where the zone was read, for `check`: PORTAL_TIMEZONE, Laravel's APP_TIMEZONE, or the
    default (not part of the schema's value)."""
    fields: tuple[FieldSpec, ...] = ()
    """Odoo fields synced to portal columns through maps (ORDERAMT_<NAME>_MAP)."""

    @property
    def zone(self) -> ZoneInfo:
        return times.zone(self.timezone)


@dataclass(frozen=True)
class OdooSettings:
    url: str = field(repr=False)
    """May carry user:password@; shown only through mask_url (see __repr__)."""
    db: str
    username: str
    password: Secret = field(repr=False)
    timeout: float = DEFAULT_ODOO_TIMEOUT
    protocol: Protocol = "auto"
    retries: int = DEFAULT_RETRIES
    retry_wait: float = DEFAULT_RETRY_WAIT
    retry_max_time: float = DEFAULT_RETRY_MAX_TIME

    def __repr__(self) -> str:
        return (
            f"OdooSettings(url={mask_url(self.url)!r}, db={self.db!r}, "
            f"username={self.username!r}, protocol={self.protocol!r})"
        )


@dataclass(frozen=True)
class ListenSettings:
    """`orderamt listen`: where it serves, the secret in its path, its delay and poll."""

    host: str = "127.0.0.1"
    port: int = 8765
    secret: Secret = field(default_factory=lambda: Secret(""), repr=False)
    delay: float | None = None
    """Seconds to gather webhooks (and let Odoo 17 and 18, which post before their commit,
    commit); None (`auto`): chosen by Odoo's version (`listen.worker.gather_delay`)."""
    poll_interval: float = 60.0


@dataclass(frozen=True)
class Settings:
    odoo: OdooSettings
    database_url: Secret = field(repr=False)
    schema: PortalSchema
    log_file: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    lock: LockKind = "auto"
    lock_file: Path | None = None
    """None: one per portal table beside the log file."""
    journal_table: str = "orderamt_journal"
    on_conflict: OnConflict = "odoo"
    changed_margin: float = DEFAULT_CHANGED_MARGIN
    """Seconds a catch-up poll reads back before its checkpoint (late Odoo commits)."""
    listen: ListenSettings = field(default_factory=ListenSettings)
    metrics_file: Path | None = None
    """ORDERAMT_METRICS_FILE: written after each run for node_exporter's textfile collector."""
    warnings: tuple[str, ...] = ()
    """What is odd but not wrong (a typo'd name in .env): said on stderr, the run goes on."""

    @cached_property
    def portal_url(self) -> DatabaseUrl:
        """PORTAL_DATABASE_URL as the engine and the lock read it (checked by load_settings)."""
        return DatabaseUrl.parse(self.database_url.reveal())

    @property
    def database_url_for_display(self) -> str:
        """The portal URL with any password masked, for messages and logs."""
        return self.portal_url.masked
