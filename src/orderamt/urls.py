"""Addresses fit for a message: the one place a password in a URL is masked."""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "***"


def mask_url(url: str) -> str:
    """`url` with the password of any `user:password@` part replaced by ***.

    For Odoo's address and for database URLs alike (`mysql+pymysql://u:***@host/db`, as
    SQLAlchemy shows them); a URL that cannot be parsed is not shown at all.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, colon, _password = userinfo.partition(":")
    netloc = f"{user}:{MASK}@{host}" if colon else f"{user}@{host}"
    return parts._replace(netloc=netloc).geturl()
