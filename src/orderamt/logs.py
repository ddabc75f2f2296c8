"""The log file: one line per record, with its context as JSON, rotated so it stays bounded."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from orderamt.errors import ConfigError, LogError

LOGGER_NAME = "orderamt"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5


class ContextFormatter(logging.Formatter):
    """`[2026-11-24 22:00:00] INFO Synced order amount from Odoo {"order_id": 1, ...}` in UTC."""

    @staticmethod
    def converter(seconds: float | None, /) -> time.struct_time:
        return time.gmtime(seconds)

    def __init__(self) -> None:
        super().__init__("[%(asctime)s] %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            line = super().format(record)
        else:
            # The same line without logging's general machinery, the time stamp made once
            # a second: a backfill logs one line per change, 10,000 in a second or two.
            second = int(record.created)
            if second != self._second:
                self._second, self._stamp = second, self.formatTime(record, self.datefmt)
            each = getattr(record, "each", None)
            if each is not None:
                # A batch's lines in one record (orderamt.sync), written one line each.
                head = f"[{self._stamp}] {record.levelname} "
                return "\n".join(head + message + _context(ctx) for message, ctx in each)
            line = f"[{self._stamp}] {record.levelname} {record.getMessage()}"
        return line + _context(getattr(record, "context", None))


def _context(context: object) -> str:
    """A record's context as the JSON after its message (nothing when there is none)."""
    if not context:
        return ""
    return " " + json.dumps(context, default=str, ensure_ascii=False)


BUFFERED_RECORDS = 1000
"""Info records held before they are written; a warning or an error is written at once."""


class BufferedRotatingFileHandler(RotatingFileHandler):
    """The rotating log, written a block at a time: one write and one size check per block
    instead of per record (checking the size for every record was a third of the logging
    cost of a backfill). Every record still gets its line; `flush` (at the end of each
    batch, at a warning, and on close) writes what is held. `immediate` (the listener, which
    runs for months) writes each record as it comes.

    Several processes share one log (an hourly timer and a listener): before each block the
    file at the path is checked to still be the one open, and opened again where another
    process's rotation, or logrotate's `create`, moved it away; `reopen` (SIGHUP) does so at
    once. A block that cannot be written (a full disk) is a LogError, one line and exit 2,
    not a traceback and a run that looks done."""

    def __init__(self, path: Path, *, immediate: bool = False) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
        self._held: list[str] = []
        self._immediate = immediate
        self._path = Path(path)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._held.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        if (
            self._immediate
            or record.levelno >= logging.WARNING
            or len(self._held) >= BUFFERED_RECORDS
        ):
            self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            if self._held:
                block, self._held = "".join(self._held), []
                try:
                    self._write(block)
                except OSError as exc:
                    self._drop_stream()
                    raise LogError(
                        f"ORDERAMT_LOG_FILE: cannot write the log file {self._path}: "
                        f"{exc.strerror or exc}"
                    ) from None
        finally:
            self.release()

    def _write(self, block: str) -> None:
        if self.stream is not None and self._moved():
            self.stream.close()
            self.stream = None
        if self.stream is None:
            self.stream = self._open()
        if self.maxBytes and self.stream.tell() + len(block.encode()) > self.maxBytes:
            self.doRollover()
        self.stream.write(block)
        self.stream.flush()

    def _moved(self) -> bool:
        """The path no longer names the file open here (rotated away by another process,
        or by logrotate)."""
        try:
            there = os.stat(self._path)
        except OSError:
            return True
        assert self.stream is not None
        here = os.fstat(self.stream.fileno())
        return (there.st_dev, there.st_ino) != (here.st_dev, here.st_ino)

    def reopen(self) -> None:
        """Close the file; the next line opens the path again (SIGHUP, after logrotate)."""
        self.acquire()
        try:
            self._drop_stream()
        finally:
            self.release()

    def _drop_stream(self) -> None:
        """Forget a file that failed a write, with what its buffer still holds."""
        if self.stream is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self.stream = None

    def close(self) -> None:
        # A failed write was raised where its line was written: closing must not fail again.
        with contextlib.suppress(LogError):
            self.flush()
        with contextlib.suppress(OSError):
            super().close()


def setup_logging(path: Path, *, immediate: bool = False) -> logging.Logger:
    """Send orderamt's records to `path` (and only there), replacing an earlier setup;
    `immediate`: each line written as it comes (a long-running listener)."""
    logger = logging.getLogger(LOGGER_NAME)
    close_logging()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = BufferedRotatingFileHandler(path, immediate=immediate)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"ORDERAMT_LOG_FILE: cannot write the log file {path}: {reason}{_no_home(path)}"
        ) from None
    handler.setFormatter(ContextFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _no_home(path: Path) -> str:
    """The hint for a log under a HOME that does not exist: a system user's (adduser
    --system gives /nonexistent), where the default log can never go."""
    home = os.environ.get("HOME", "")
    if not home or Path(home).is_dir() or not path.is_relative_to(home):
        return ""
    return (
        f" (HOME {home} does not exist, as for a system user: set ORDERAMT_LOG_FILE, "
        "e.g. /var/log/orderamt/orderamt.log)"
    )


def reopen_logging() -> None:
    """The log file opened again on its next line (SIGHUP)."""
    for handler in logging.getLogger(LOGGER_NAME).handlers:
        if isinstance(handler, BufferedRotatingFileHandler):
            handler.reopen()


def close_logging() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
