"""The log file as two processes share it: an hourly timer and a listener, one rotating."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from orderamt.config import default_log_file
from orderamt.errors import ConfigError
from orderamt.logs import BufferedRotatingFileHandler, ContextFormatter, setup_logging


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


@pytest.mark.skipif(sys.platform != "linux", reason="the default log path and /proc are Linux's")
def test_a_log_under_a_home_that_does_not_exist_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A system user's HOME (/nonexistent; /proc refuses even root): the one line names the
    file, the reason, and what to set instead."""
    monkeypatch.setenv("HOME", "/proc/nonexistent")
    path = default_log_file({"HOME": "/proc/nonexistent"})
    with pytest.raises(ConfigError) as caught:
        setup_logging(path)
    assert str(caught.value) == (
        "ORDERAMT_LOG_FILE: cannot write the log file "
        "/proc/nonexistent/.local/state/orderamt/orderamt.log: No such file or directory "
        "(HOME /proc/nonexistent does not exist, as for a system user: set ORDERAMT_LOG_FILE, "
        "e.g. /var/log/orderamt/orderamt.log)"
    )
