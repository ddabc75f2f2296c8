"""Time, explicit about its zone: orderamt's clock is aware UTC; the portal's is its own.

Laravel writes `created_at` and `updated_at` as naive times in the app's time zone
(`config('app.timezone')`, PORTAL_TIMEZONE here). orderamt keeps every instant as an aware
UTC datetime and turns it into the portal's naive local time only at the portal's columns;
its own journal stores naive UTC and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc


def utc_now() -> datetime:
    """Now, aware UTC, to the second (Laravel stores whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError with the reason when there is none such."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone this system knows (an IANA name such as "
            "Europe/Berlin; on Windows, install tzdata)"
        ) from None


def local_naive(instant: datetime, where: ZoneInfo) -> datetime:
    """An aware instant as the naive wall-clock time in `where`, as Laravel would store it."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no zone to convert from")
    return instant.astimezone(where).replace(tzinfo=None)


def naive_utc(instant: datetime) -> datetime:
    """An aware instant as naive UTC, for orderamt's own tables."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no zone to convert from")
    return instant.astimezone(UTC).replace(tzinfo=None)


def aware_utc(stored: datetime) -> datetime:
    """A naive UTC value from orderamt's own tables, made explicit."""
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def window_start(now: datetime, days: int) -> datetime:
    """The instant `days` days before `now`: exact elapsed time, so a daylight-saving change
    inside the window neither skips nor doubles an hour's orders."""
    return now - timedelta(days=days)


ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"
EPOCH = "1970-01-01 00:00:00"


def odoo_time(instant: datetime) -> str:
    """An instant as Odoo writes a datetime: naive UTC, whole seconds."""
    return naive_utc(instant).strftime(ODOO_FORMAT)


def parse_odoo_time(text: str) -> datetime:
    """Odoo's 'YYYY-MM-DD HH:MM:SS' (UTC) as an aware instant."""
    return datetime.strptime(text[:19], ODOO_FORMAT).replace(tzinfo=UTC)
