"""The log file as two processes share it: an hourly timer and a listener, one rotating."""

from __future__ import annotations

import logging
from pathlib import Path

from orderamt.logs import BufferedRotatingFileHandler, ContextFormatter


def handler(path: Path) -> BufferedRotatingFileHandler:
    made = BufferedRotatingFileHandler(path, immediate=True)
    made.setFormatter(ContextFormatter())
    return made


def line(text: str) -> logging.LogRecord:
    return logging.LogRecord("orderamt", logging.INFO, __file__, 1, text, None, None)


def test_a_process_whose_log_another_rotated_writes_to_the_new_file(tmp_path: Path) -> None:
    """The timer rotates the shared log (its size rollover, or logrotate's create); the
    listener's next line goes to the new orderamt.log, not into orderamt.log.1."""
    path = tmp_path / "orderamt.log"
    timer, listener = handler(path), handler(path)
    try:
        listener.emit(line("before"))
        timer.emit(line("timer"))
        timer.doRollover()
        listener.emit(line("after"))
    finally:
        timer.close()
        listener.close()
    rotated = (tmp_path / "orderamt.log.1").read_text(encoding="utf-8")
    assert ("before" in rotated, "after" in rotated) == (True, False)
    assert "INFO after" in path.read_text(encoding="utf-8")


def test_reopen_follows_a_file_moved_away(tmp_path: Path) -> None:
    """SIGHUP's reopen: after logrotate moved the file, the next line makes a new one."""
    path = tmp_path / "orderamt.log"
    listener = handler(path)
    try:
        listener.emit(line("first"))
        path.rename(tmp_path / "orderamt.log.1")
        listener.reopen()
        listener.emit(line("second"))
    finally:
        listener.close()
    assert path.read_text(encoding="utf-8").count("INFO") == 1
    assert "INFO second" in path.read_text(encoding="utf-8")
