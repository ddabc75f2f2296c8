"""Renders runs, history, status and check, for people (rich) and for machines (JSON, metrics).

One module a job: `terminal` (what the output can show), `console` (a run, line by line),
`jsondoc` (the JSON documents), `history`, `status` and `check` (one command each).
"""

from orderamt.report.check import print_check_header, print_checks
from orderamt.report.console import ConsoleReport
from orderamt.report.history import print_order_changes, print_released, print_runs
from orderamt.report.jsondoc import JsonReport
from orderamt.report.status import metrics_text, print_status
from orderamt.report.terminal import can_show_emoji, make_console

__all__ = [
    "ConsoleReport",
    "JsonReport",
    "can_show_emoji",
    "make_console",
    "metrics_text",
    "print_check_header",
    "print_checks",
    "print_order_changes",
    "print_released",
    "print_runs",
    "print_status",
]
