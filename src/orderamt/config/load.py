"""Building the settings: every variable read and checked, every problem reported at once."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import get_args
from urllib.parse import urlsplit

from orderamt import times
from orderamt.config.collector import Collector
from orderamt.config.fields import read_fields
from orderamt.config.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CHANGED_MARGIN,
    DEFAULT_ODOO_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_MAX_TIME,
    DEFAULT_RETRY_WAIT,
    MAX_BATCH_SIZE,
    ListenSettings,
    LockKind,
    OdooSettings,
    OnConflict,
    PortalSchema,
    Protocol,
    Secret,
    Settings,
)
from orderamt.config.sources import Environment, read_sources
from orderamt.database_url import DatabaseUrl
from orderamt.errors import ConfigError
from orderamt.money import is_currency_code
from orderamt.urls import mask_url

BROWSER_PATHS = ("/odoo", "/web", "/web/login", "/odoo/action-sale.action_orders")
"""What a browser shows for Odoo 17 and later, copied into ODOO_URL by mistake."""
MIN_SECRET = 32
"""ORDERAMT_WEBHOOK_SECRET's least length: the secret is all that keeps strangers out."""


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


def _check_odoo_url(collector: Collector, url: str) -> str:
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


def _portal_url(c: Collector, sources: Environment) -> str:
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


def _currency(collector: Collector, code: str) -> str | None:
    if not code:
        return None
    if not is_currency_code(code.upper()):
        collector.problems.append(
            f"PORTAL_CURRENCY must be an ISO 4217 code such as USD, got {code!r}"
        )
        return None
    return code.upper()


def _webhook_secret(c: Collector, secret: str) -> None:
    if len(secret) < MIN_SECRET or not all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in secret
    ):
        c.problems.append(
            f"ORDERAMT_WEBHOOK_SECRET must be at least {MIN_SECRET} letters, digits, '-' or '_' "
            "(it is the only thing that keeps strangers from posting): generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _listen(c: Collector, values: Mapping[str, str], *, webhook: bool) -> ListenSettings:
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
        delay=None
        if values.get("ORDERAMT_WEBHOOK_DELAY", "").strip().lower() in ("", "auto")
        else c.number("ORDERAMT_WEBHOOK_DELAY", 1.0, 0, 60, whole=False),
        poll_interval=c.number(
            "ORDERAMT_POLL_INTERVAL", defaults.poll_interval, 1, 86_400, whole=False
        ),
    )


def _timezone(collector: Collector, sources: Environment) -> tuple[str, str, str | None]:
    """The portal's zone and where it was read: PORTAL_TIMEZONE; without it Laravel's own
    APP_TIMEZONE (config('app.timezone') in Laravel 11 and later), which a Laravel `.env`
    shared through --env-file holds; else UTC. A warning where the two disagree."""
    ours = sources.values.get("PORTAL_TIMEZONE", "").strip()
    laravel = sources.values.get("APP_TIMEZONE", "").strip()
    where = f" in {sources.env_file}" if "APP_TIMEZONE" in sources.from_file else ""
    warning = None
    if ours and laravel and ours != laravel:
        warning = (
            f"PORTAL_TIMEZONE is {ours} but Laravel's APP_TIMEZONE{where} is {laravel}: "
            f"orderamt reads and writes the portal's times in {ours}"
        )
    if ours:
        name, source = ours, "PORTAL_TIMEZONE"
    elif laravel:
        name, source = laravel, f"Laravel's APP_TIMEZONE{where}"
    else:
        return "UTC", "the default: neither PORTAL_TIMEZONE nor Laravel's APP_TIMEZONE is set", None
    try:
        times.zone(name)
    except ValueError as exc:
        setting = "PORTAL_TIMEZONE" if ours else "APP_TIMEZONE (Laravel's; PORTAL_TIMEZONE unset)"
        collector.problems.append(f"{setting}: {exc}")
        return "UTC", source, None
    return name, source, warning


ODOO_NAMES = ("ODOO_URL", "ODOO_DB", "ODOO_USERNAME")


def load_settings(
    environ: Mapping[str, str],
    env_file: Path | None = None,
    *,
    webhook: bool = False,
    odoo: bool = True,
) -> Settings:
    """Build the settings, or raise one ConfigError naming every missing or bad variable.

    `webhook`: for the commands that serve or set up the webhook, which need a good
    ORDERAMT_WEBHOOK_SECRET (the others do not read it). `odoo=False`: for the commands
    that read only the portal (status, history, ignore, release), which a monitoring user
    without Odoo's credentials runs; the ODOO_* settings are then not required.
    """
    sources = read_sources(environ, env_file)
    values = sources.values
    c = Collector(values)
    if odoo:
        odoo_url = _check_odoo_url(c, c.required("ODOO_URL"))
        odoo_db = c.required("ODOO_DB")
        username = c.required("ODOO_USERNAME")
    else:
        odoo_url, odoo_db, username = (values.get(name, "").strip() for name in ODOO_NAMES)
    password = values.get("ODOO_PASSWORD", "")
    if odoo and not password:
        c.problems.append("ODOO_PASSWORD is not set")
    for name, value in (("ODOO_PASSWORD", password), ("ODOO_DB", odoo_db)):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            # Never quote the value: it may be the secret.
            c.problems.append(f"{name} contains a control character (a trailing newline?)")
    database_url = _portal_url(c, sources)
    zone, zone_from, zone_warning = _timezone(c, sources)
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
        timezone=zone,
        timezone_from=zone_from,
        fields=read_fields(c, values, zone),
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
        warnings=(*sources.unknown_names(), *([zone_warning] if zone_warning else [])),
    )
