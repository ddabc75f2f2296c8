"""The log file: one line per record, with its context as JSON, rotated so it stays bounded."""

from __future__ import annotations

import json
import logging
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from orderamt.errors import ConfigError

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
    batch, at a warning, and on close) writes what is held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
        self._held: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._held.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING or len(self._held) >= BUFFERED_RECORDS:
            self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            if self._held:
                block, self._held = "".join(self._held), []
                if self.stream is None:
                    self.stream = self._open()
                if self.maxBytes and self.stream.tell() + len(block.encode()) > self.maxBytes:
                    self.doRollover()
                self.stream.write(block)
            super().flush()
        finally:
            self.release()

    def close(self) -> None:
        self.flush()
        super().close()


def setup_logging(path: Path) -> logging.Logger:
    """Send orderamt's records to `path` (and only there), replacing an earlier setup."""
    logger = logging.getLogger(LOGGER_NAME)
    close_logging()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = BufferedRotatingFileHandler(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"ORDERAMT_LOG_FILE: cannot write the log file {path}: {reason}"
        ) from None
    handler.setFormatter(ContextFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def close_logging() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
