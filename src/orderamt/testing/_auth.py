"""Logging in: the database's one user, its password or API key, Odoo's cooldown after
failed logins from one address, and what checking a password costs.

Odoo checks a password against its slow hash (about 330 ms on 17.0, 18.0 and 19.0,
`odoo-facts.md`) on every `authenticate`. `execute_kw` checks (uid, password) too, through
`res.users._check_uid_passwd`, which Odoo's source caches per server process
(`@tools.ormcache('uid', 'passwd')`) and forgets when a password or an API key changes: the
first call pays the hash, the next ones do not. JSON-2's API keys have a fast hash of their
own: a whole call takes 13-14 ms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orderamt.testing._faults import OdooFault, access_denied, missing_error, python_error

LOGIN_COOLDOWN = "Too many login failures, please wait a bit before trying again."
COOLDOWN_AFTER = 5  # failed logins from one address ...
COOLDOWN_SECONDS = 60.0  # ... within this delay of the last one lock that address out


class Logins:
    """How `Database` lets its user in, or not; mixed into it, which holds the state."""

    name: str
    login: str
    password: str
    uid: int
    api_key: str | None
    _lock: threading.Lock
    _login_failures: dict[str, tuple[int, float]]
    hash_seconds: float
    """Seconds one check of a password against its hash takes (0: at once)."""
    _checked: set[tuple[int, str]]
    """(uid, secret) that `execute_kw` checked already: Odoo's ormcache of the check."""

    hashes: int
    """Password checks against the hash so far (what `hash_seconds` was paid for)."""

    def _hash(self) -> None:
        with self._lock:
            self.hashes += 1
        if self.hash_seconds > 0:
            time.sleep(self.hash_seconds)

    def change_secrets(self, password: str | None, api_key: str | None) -> None:
        """A new password, or an API key made or revoked: Odoo clears its caches."""
        with self._lock:
            if password is not None:
                self.password = password
            self.api_key = api_key
            self._checked.clear()

    def check_db(self, db: Any) -> None:
        if db != self.name:
            raise python_error(
                "psycopg2.OperationalError",
                f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                f'database "{db}" does not exist',
            )

    def secret_ok(self, secret: Any) -> bool:
        """The password, or the API key in its place (Odoo accepts either over RPC)."""
        if not isinstance(secret, str) or not secret:
            return False
        return secret == self.password or (self.api_key is not None and secret == self.api_key)

    def key_ok(self, key: str) -> bool:
        return self.api_key is not None and key == self.api_key

    @contextmanager
    def login_attempt(self, client: str) -> Iterator[None]:
        """Odoo's `_assert_can_auth`: count AccessDenied per address, lock out after five."""
        with self._lock:
            failures, last = self._login_failures.get(client, (0, 0.0))
        if failures >= COOLDOWN_AFTER and time.monotonic() - last < COOLDOWN_SECONDS:
            raise access_denied(LOGIN_COOLDOWN)
        try:
            yield
        except OdooFault as error:
            if error.fault_code == 3:
                with self._lock:
                    count = self._login_failures.get(client, (0, 0.0))[0]
                    self._login_failures[client] = (count + 1, time.monotonic())
            raise
        with self._lock:
            self._login_failures.pop(client, None)

    def forget_login_failures(self) -> None:
        with self._lock:
            self._login_failures.clear()

    def check(self, db: Any, uid: int, password: Any, client: str) -> None:
        """`security.check`: the database, then the user, then the password."""
        self.check_db(db)
        if uid != self.uid:
            raise missing_error(
                "Record does not exist or has been deleted.\n"
                f"(Record: res.users({uid},), User: {uid})"
            )
        if isinstance(password, str) and (uid, password) in self._checked:
            return
        with self.login_attempt(client):
            self._hash()
            if not self.secret_ok(password):
                raise access_denied()
        with self._lock:
            self._checked.add((uid, password))

    def authenticate(self, db: Any, login: Any, password: Any, client: str) -> int | bool:
        """The user id, or False for any refused login (locked out included), as Odoo does."""
        self.check_db(db)
        try:
            with self.login_attempt(client):
                if login != self.login:
                    raise access_denied()
                self._hash()
                if not self.secret_ok(password):
                    raise access_denied()
        except OdooFault as error:
            if error.fault_code == 3:
                return False
            raise
        return self.uid
