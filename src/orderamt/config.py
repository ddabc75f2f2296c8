"""Settings from the environment and an optional `.env` file, checked all at once."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from orderamt import times
from orderamt.database_url import DatabaseUrl
from orderamt.errors import ConfigError
from orderamt.models import FieldSpec
from orderamt.money import is_currency_code
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
DEFAULT_ENV_FILE = Path(".env")
BROWSER_PATHS = ("/odoo", "/web", "/web/login", "/odoo/action-sale.action_orders")
"""What a browser shows for Odoo 17 and later, copied into ODOO_URL by mistake."""
MIN_SECRET = 32
"""ORDERAMT_WEBHOOK_SECRET's least length: the secret is all that keeps strangers out."""
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
    delay: float = 1.0
    """Seconds to gather webhooks (and let Odoo 18, which posts before its commit, commit)."""
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


def default_log_file(environ: Mapping[str, str]) -> Path:
    """Where each platform keeps a user's logs: XDG state dir, ~/Library/Logs, LOCALAPPDATA."""
    home = Path(environ.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "orderamt" / "orderamt.log"
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / "orderamt" / "orderamt.log"
    state = environ.get("XDG_STATE_HOME")
    return (Path(state) if state else home / ".local" / "state") / "orderamt" / "orderamt.log"


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
            if name.startswith(PREFIXES) and name not in KNOWN_NAMES and not _field_name(name):
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


Choice = TypeVar("Choice", bound=str)


class _Collector:
    """Reads variables and gathers every problem, so the user fixes them in one go."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []

    def required(self, name: str) -> str:
        value = self.values.get(name, "").strip()
        if not value:
            self.problems.append(f"{name} is not set")
        return value

    def identifier(self, name: str, default: str) -> str:
        value = self.values.get(name, default).strip()
        if not value:
            self.problems.append(f"{name} must not be empty")
        return value

    def choice(self, name: str, choices: tuple[Choice, ...]) -> Choice:
        """One of `choices` (any case); unset or empty means the first."""
        value = self.values.get(name, "").strip().lower() or choices[0]
        for choice in choices:
            if value == choice:
                return choice
        self.problems.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return choices[0]

    def number(self, name: str, default: float, low: float, high: float, *, whole: bool) -> float:
        raw = self.values.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if whole else float(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            kind = "a whole number" if whole else "a number of seconds"
            self.problems.append(f"{name} must be {kind} from {low:g} to {high:g}, got {raw!r}")
            return default
        return value


def _check_odoo_url(collector: _Collector, url: str) -> str:
    if not url:
        return url
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        collector.problems.append(f"ODOO_URL has an invalid port: {mask_url(url)!r}")
        return url
    if parts.scheme not in ("http", "https") or not parts.hostname:
        collector.problems.append(
            f"ODOO_URL must be an http:// or https:// address, got {mask_url(url)!r}"
        )
    elif parts.path.rstrip("/") in BROWSER_PATHS or parts.path.startswith(("/odoo/", "/web#")):
        root = parts._replace(path="", query="", fragment="").geturl()
        collector.problems.append(
            f"ODOO_URL is the address of a page in Odoo, not of Odoo: drop the path "
            f"{parts.path!r} and use {mask_url(root)!r}"
        )
    return url.rstrip("/")


def _portal_url(c: _Collector, sources: Environment) -> str:
    """PORTAL_DATABASE_URL; a relative SQLite path in the .env file resolved against the
    file's folder (so `--env-file C:\\orderamt\\.env` works from any directory, as Task
    Scheduler starts it)."""
    text = c.required("PORTAL_DATABASE_URL")
    if not text:
        return text
    try:
        url = DatabaseUrl.parse(text)
    except ValueError:
        c.problems.append(
            "PORTAL_DATABASE_URL is not a database URL "
            "(expected e.g. sqlite:///portal.db or mysql+pymysql://user:pass@host/db)"
        )
        return text
    if sources.env_file is not None and "PORTAL_DATABASE_URL" in sources.from_file:
        url = url.beside(sources.env_file.parent)
    return url.text


def _currency(collector: _Collector, code: str) -> str | None:
    if not code:
        return None
    if not is_currency_code(code.upper()):
        collector.problems.append(
            f"PORTAL_CURRENCY must be an ISO 4217 code such as USD, got {code!r}"
        )
        return None
    return code.upper()


def _webhook_secret(c: _Collector, secret: str) -> None:
    if len(secret) < MIN_SECRET or not all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in secret
    ):
        c.problems.append(
            f"ORDERAMT_WEBHOOK_SECRET must be at least {MIN_SECRET} letters, digits, '-' or '_' "
            "(it is the only thing that keeps strangers from posting): generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _listen(c: _Collector, values: Mapping[str, str], *, webhook: bool) -> ListenSettings:
    defaults = ListenSettings()
    where = values.get("ORDERAMT_LISTEN", "").strip() or f"{defaults.host}:{defaults.port}"
    host, colon, port_text = where.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        c.problems.append(f"ORDERAMT_LISTEN must be HOST:PORT (e.g. 127.0.0.1:8765), got {where!r}")
        host, port_text = defaults.host, str(defaults.port)
    secret = values.get("ORDERAMT_WEBHOOK_SECRET", "").strip()
    if webhook:
        _webhook_secret(c, secret)
    return ListenSettings(
        host=host,
        port=int(port_text),
        secret=Secret(secret),
        delay=c.number("ORDERAMT_WEBHOOK_DELAY", defaults.delay, 0, 60, whole=False),
        poll_interval=c.number(
            "ORDERAMT_POLL_INTERVAL", defaults.poll_interval, 1, 86_400, whole=False
        ),
    )


KNOWN_FIELDS = {
    "STATUS": "state",
    "INVOICE_STATUS": "invoice_status",
    "DELIVERY_STATUS": "delivery_status",
}
"""The Odoo field a mapped field reads unless ORDERAMT_<NAME>_FIELD names another."""
_BUILTIN_COLUMNS = frozenset(
    {"ID", "NUMBER", "AMOUNT", "ODOO_ID", "CREATED", "UPDATED", "CURRENCY"}
)


def _field_name(setting: str) -> str | None:
    """The mapped field a setting belongs to (ORDERAMT_STATUS_MAP, ORDERAMT_STATUS_FIELD,
    PORTAL_COL_STATUS: "STATUS"), or None."""
    for prefix, suffix in (("ORDERAMT_", "_MAP"), ("ORDERAMT_", "_FIELD"), ("PORTAL_COL_", "")):
        if setting.startswith(prefix) and setting.endswith(suffix):
            name = setting[len(prefix) : len(setting) - len(suffix)]
            if name and (prefix != "PORTAL_COL_" or name not in _BUILTIN_COLUMNS):
                return name
    return None


def _fields(c: _Collector, values: Mapping[str, str]) -> tuple[FieldSpec, ...]:
    """Each mapped field: ORDERAMT_<NAME>_MAP (Odoo value:portal value, comma-separated),
    PORTAL_COL_<NAME> (default: the name in lower case) and, for a field other than
    STATUS, INVOICE_STATUS and DELIVERY_STATUS, ORDERAMT_<NAME>_FIELD."""
    names = sorted({n for n in (_field_name(k) for k in values if values[k].strip()) if n})
    specs = []
    for name in names:
        raw_map = values.get(f"ORDERAMT_{name}_MAP", "").strip()
        if not raw_map:
            set_ = [k for k in (f"PORTAL_COL_{name}", f"ORDERAMT_{name}_FIELD") if k in values]
            c.problems.append(f"{' and '.join(set_)} set, but ORDERAMT_{name}_MAP is not")
            continue
        odoo_field = values.get(f"ORDERAMT_{name}_FIELD", "").strip() or KNOWN_FIELDS.get(name)
        if not odoo_field:
            c.problems.append(
                f"ORDERAMT_{name}_FIELD is not set (the Odoo field of ORDERAMT_{name}_MAP; "
                f"known without it: {', '.join(KNOWN_FIELDS)})"
            )
            continue
        mapping = _mapping(c, f"ORDERAMT_{name}_MAP", raw_map)
        column_ = values.get(f"PORTAL_COL_{name}", "").strip() or name.lower()
        specs.append(FieldSpec(name.lower(), odoo_field, column_, mapping))
    return tuple(specs)


def _mapping(c: _Collector, setting: str, raw: str) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        odoo, colon, portal = (part.strip() for part in item.partition(":"))
        if not item.strip():
            continue
        if not colon or not odoo or not portal:
            c.problems.append(
                f"{setting} must be odoo_value:portal_value pairs separated by commas "
                f"(e.g. draft:pending,sale:confirmed), got {item.strip()!r}"
            )
            return ()
        if odoo in pairs:
            c.problems.append(f"{setting} maps Odoo's {odoo!r} twice")
            return ()
        pairs[odoo] = portal
    return tuple(pairs.items())


def _timezone(collector: _Collector, name: str) -> str:
    try:
        times.zone(name)
    except ValueError as exc:
        collector.problems.append(f"PORTAL_TIMEZONE: {exc}")
        return "UTC"
    return name


def load_settings(
    environ: Mapping[str, str], env_file: Path | None = None, *, webhook: bool = False
) -> Settings:
    """Build the settings, or raise one ConfigError naming every missing or bad variable.

    `webhook`: for the commands that serve or set up the webhook, which need a good
    ORDERAMT_WEBHOOK_SECRET (the others do not read it).
    """
    sources = read_sources(environ, env_file)
    values = sources.values
    c = _Collector(values)
    odoo_url = _check_odoo_url(c, c.required("ODOO_URL"))
    odoo_db = c.required("ODOO_DB")
    username = c.required("ODOO_USERNAME")
    password = values.get("ODOO_PASSWORD", "")
    if not password:
        c.problems.append("ODOO_PASSWORD is not set")
    for name, value in (("ODOO_PASSWORD", password), ("ODOO_DB", odoo_db)):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            # Never quote the value: it may be the secret.
            c.problems.append(f"{name} contains a control character (a trailing newline?)")
    database_url = _portal_url(c, sources)
    defaults = PortalSchema()
    updated = values.get("PORTAL_COL_UPDATED", defaults.updated or "").strip()
    schema = PortalSchema(
        table=c.identifier("PORTAL_ORDERS_TABLE", defaults.table),
        id=c.identifier("PORTAL_COL_ID", defaults.id),
        number=c.identifier("PORTAL_COL_NUMBER", defaults.number),
        amount=c.identifier("PORTAL_COL_AMOUNT", defaults.amount),
        odoo_id=c.identifier("PORTAL_COL_ODOO_ID", defaults.odoo_id),
        created=c.identifier("PORTAL_COL_CREATED", defaults.created),
        updated=updated or None,
        currency=_currency(c, values.get("PORTAL_CURRENCY", "").strip()),
        currency_column=values.get("PORTAL_COL_CURRENCY", "").strip() or None,
        timezone=_timezone(c, values.get("PORTAL_TIMEZONE", "").strip() or "UTC"),
        fields=_fields(c, values),
    )
    if schema.currency and schema.currency_column:
        c.problems.append("set PORTAL_CURRENCY or PORTAL_COL_CURRENCY, not both")
    batch_size = int(
        c.number("ORDERAMT_BATCH_SIZE", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, whole=True)
    )
    timeout = c.number("ODOO_TIMEOUT", DEFAULT_ODOO_TIMEOUT, 1, 3600, whole=False)
    retries = int(c.number("ODOO_RETRIES", DEFAULT_RETRIES, 0, 10, whole=True))
    retry_wait = c.number("ODOO_RETRY_WAIT", DEFAULT_RETRY_WAIT, 0, 60, whole=False)
    retry_max_time = c.number("ODOO_RETRY_MAX_TIME", DEFAULT_RETRY_MAX_TIME, 0, 3600, whole=False)
    protocol = c.choice("ODOO_PROTOCOL", get_args(Protocol))
    log_file_raw = values.get("ORDERAMT_LOG_FILE", "").strip()
    log_file = Path(log_file_raw).expanduser() if log_file_raw else default_log_file(values)
    lock = c.choice("ORDERAMT_LOCK", get_args(LockKind))
    lock_file_raw = values.get("ORDERAMT_LOCK_FILE", "").strip()
    lock_file = Path(lock_file_raw).expanduser() if lock_file_raw else None
    journal_table = c.identifier("ORDERAMT_JOURNAL_TABLE", "orderamt_journal")
    on_conflict = c.choice("ORDERAMT_ON_CONFLICT", get_args(OnConflict))
    changed_margin = c.number(
        "ORDERAMT_CHANGED_MARGIN", DEFAULT_CHANGED_MARGIN, 0, 86_400, whole=False
    )
    listen = _listen(c, values, webhook=webhook)
    metrics_raw = values.get("ORDERAMT_METRICS_FILE", "").strip()
    if c.problems:
        missing = any(problem.endswith(" is not set") for problem in c.problems)
        looked = f"no .env in {Path.cwd()}; " if missing and sources.env_file is None else ""
        raise ConfigError(
            "configuration: " + "; ".join(c.problems) + f" ({looked}see .env.example)"
        )
    return Settings(
        odoo=OdooSettings(
            url=odoo_url,
            db=odoo_db,
            username=username,
            password=Secret(password),
            timeout=timeout,
            protocol=protocol,
            retries=retries,
            retry_wait=retry_wait,
            retry_max_time=retry_max_time,
        ),
        database_url=Secret(database_url),
        schema=schema,
        log_file=log_file,
        batch_size=batch_size,
        lock=lock,
        lock_file=lock_file,
        journal_table=journal_table,
        on_conflict=on_conflict,
        changed_margin=changed_margin,
        listen=listen,
        metrics_file=Path(metrics_raw).expanduser() if metrics_raw else None,
        warnings=tuple(sources.unknown_names()),
    )
