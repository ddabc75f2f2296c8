"""Renders runs, history, status and check, for people (rich) and for machines (JSON, metrics).

One module a job: `terminal` (what the output can show), `console` (a run, line by line),
`jsondoc` (the JSON documents), `history`, `status` and `check` (one command each). Each
name is imported from its module when first asked for: a command loads only the report it
prints (`status` no run report, no progress bar).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orderamt.report.check import print_check_header, print_checks
    from orderamt.report.console import ConsoleReport
    from orderamt.report.history import print_order_changes, print_released, print_runs
    from orderamt.report.jsondoc import JsonReport
    from orderamt.report.status import metrics_text, print_status
    from orderamt.report.terminal import (
        can_show_emoji,
        new_console,
        prepare_output,
        print_lines,
    )

_MODULE_OF = {
    "ConsoleReport": "console",
    "JsonReport": "jsondoc",
    "can_show_emoji": "terminal",
    "new_console": "terminal",
    "prepare_output": "terminal",
    "print_lines": "terminal",
    "metrics_text": "status",
    "print_check_header": "check",
    "print_checks": "check",
    "print_order_changes": "history",
    "print_released": "history",
    "print_runs": "history",
    "print_status": "status",
}

__all__ = [
    "ConsoleReport",
    "JsonReport",
    "can_show_emoji",
    "metrics_text",
    "new_console",
    "prepare_output",
    "print_check_header",
    "print_checks",
    "print_lines",
    "print_order_changes",
    "print_released",
    "print_runs",
    "print_status",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"orderamt.report.{_MODULE_OF[name]}"), name)
